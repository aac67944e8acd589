// Writes jupyterlab_workbench/labextension/sources.sha256: one hash of the sources the build was made from
// (src/, style/, package.json), which tests/test_lab_extension.py recomputes to catch a stale committed build.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

function files(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap(e => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

const hash = crypto.createHash('sha256');
for (const file of [...files('src'), ...files('style'), 'package.json'].sort()) {
  hash.update(file.split(path.sep).join('/') + '\n');
  hash.update(fs.readFileSync(file));
}
fs.writeFileSync('jupyterlab_workbench/labextension/sources.sha256', hash.digest('hex') + '\n');
