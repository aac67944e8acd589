"use strict";(self.rspackChunkjupyterlab_workbench=self.rspackChunkjupyterlab_workbench||[]).push([[232],{475(r,e,a){var t=a(601),o=a.n(t),n=a(314),l=(a.n(n))()(o());l.push([r.id,`.wb-lab-sidebar {
  display: flex;
  flex-direction: column;
  padding: 8px;
  overflow-y: auto;
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
  font-size: var(--jp-ui-font-size1);
}

.wb-lab-heading {
  margin: 0 0 6px;
  font-size: var(--jp-ui-font-size2);
}

.wb-lab-filters {
  display: flex;
  flex-wrap: wrap;
  gap: 4px;
}

.wb-lab-filters select,
.wb-lab-search {
  flex: 1 1 45%;
  min-width: 0;
}

.wb-lab-tools {
  display: flex;
  gap: 4px;
  margin: 6px 0;
}

.wb-lab-store,
.wb-lab-run-meta {
  color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size0);
  overflow-wrap: anywhere;
}

.wb-lab-message {
  color: var(--jp-error-color1);
  white-space: pre-wrap;
}

.wb-lab-run {
  display: flex;
  gap: 6px;
  padding: 6px 4px;
  border-bottom: 1px solid var(--jp-border-color2);
  cursor: pointer;
}

.wb-lab-run:hover {
  background: var(--jp-layout-color2);
}

.wb-lab-run-body {
  flex: 1;
  min-width: 0;
}

.wb-lab-run-title {
  display: flex;
  justify-content: space-between;
  font-weight: 600;
}

.wb-lab-badge {
  font-weight: normal;
  border-radius: 3px;
  padding: 0 4px;
  background: var(--jp-layout-color3);
}

.wb-lab-badge-complete {
  background: var(--jp-success-color3);
}

.wb-lab-badge-running {
  background: var(--jp-info-color3);
}

.wb-lab-badge-failed,
.wb-lab-badge-interrupted {
  background: var(--jp-error-color3);
}

.wb-lab-run-error {
  color: var(--jp-error-color1);
  white-space: pre-wrap;
}

.wb-lab-progress {
  height: 4px;
  background: var(--jp-layout-color3);
  margin: 2px 0;
}

.wb-lab-progress-fill {
  height: 100%;
  background: var(--jp-brand-color1);
}

.wb-lab-runpanel,
.wb-lab-comparepanel {
  padding: 12px 16px;
  overflow: auto;
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
}

.wb-lab-rerun-line {
  display: flex;
  align-items: center;
  gap: 6px;
  margin: 6px 0;
}

.wb-lab-rerun {
  margin: 0;
  padding: 2px 6px;
  background: var(--jp-layout-color2);
  white-space: pre-wrap;
}

.wb-lab-table {
  border-collapse: collapse;
  margin: 4px 0;
}

.wb-lab-table th,
.wb-lab-table td {
  border: 1px solid var(--jp-border-color2);
  padding: 2px 6px;
  text-align: left;
  vertical-align: top;
}

.wb-lab-table pre {
  margin: 0;
  white-space: pre-wrap;
}

.wb-lab-text {
  white-space: pre-wrap;
  max-height: 8em;
  overflow: auto;
  max-width: 40em;
}

.wb-lab-item-wrong .wb-lab-correct {
  color: var(--jp-error-color1);
}

.wb-lab-item-tools {
  display: flex;
  gap: 12px;
  align-items: center;
}

.wb-lab-pager {
  display: flex;
  gap: 6px;
  align-items: center;
}

.wb-lab-chart-bar {
  fill: var(--jp-brand-color2);
}

.wb-lab-chart-ci,
.wb-lab-chart-axis {
  stroke: var(--jp-ui-font-color1);
  stroke-width: 1.5;
}

.wb-lab-chart-label,
.wb-lab-chart-value {
  fill: var(--jp-ui-font-color1);
  font-size: 11px;
}

.wb-lab-caveat {
  color: var(--jp-warn-color1);
}

.wb-lab-tools .wb-lab-button {
  flex: 1 1 auto;
  white-space: nowrap;
  padding: 0 6px;
}

.wb-lab-metrics {
  display: flex;
  flex-wrap: wrap;
  gap: 16px;
  align-items: flex-start;
}

.wb-lab-settings-box summary {
  cursor: pointer;
  font-weight: 600;
  margin: 8px 0;
}
`,""]),a.d(e,{},{A:l})},314(r){r.exports=function(r){var e=[];return e.toString=function(){return this.map(function(e){var a="",t=void 0!==e[5];return e[4]&&(a+="@supports (".concat(e[4],") {")),e[2]&&(a+="@media ".concat(e[2]," {")),t&&(a+="@layer".concat(e[5].length>0?" ".concat(e[5]):""," {")),a+=r(e),t&&(a+="}"),e[2]&&(a+="}"),e[4]&&(a+="}"),a}).join("")},e.i=function(r,a,t,o,n){"string"==typeof r&&(r=[[null,r,void 0]]);var l={};if(t)for(var i=0;i<this.length;i++){var p=this[i][0];null!=p&&(l[p]=!0)}for(var c=0;c<r.length;c++){var s=[].concat(r[c]);t&&l[s[0]]||(void 0!==n&&(void 0===s[5]||(s[1]="@layer".concat(s[5].length>0?" ".concat(s[5]):""," {").concat(s[1],"}")),s[5]=n),a&&(s[2]&&(s[1]="@media ".concat(s[2]," {").concat(s[1],"}")),s[2]=a),o&&(s[4]?(s[1]="@supports (".concat(s[4],") {").concat(s[1],"}"),s[4]=o):s[4]="".concat(o)),e.push(s))}},e}},601(r){r.exports=function(r){return r[1]}},72(r){var e=[];function a(r){for(var a=-1,t=0;t<e.length;t++)if(e[t].identifier===r){a=t;break}return a}function t(r,t){for(var o={},n=[],l=0;l<r.length;l++){var i=r[l],p=t.base?i[0]+t.base:i[0],c=o[p]||0,s="".concat(p," ").concat(c);o[p]=c+1;var b=a(s),u={css:i[1],media:i[2],sourceMap:i[3],supports:i[4],layer:i[5]};if(-1!==b)e[b].references++,e[b].updater(u);else{var d=function(r,e){var a=e.domAPI(e);return a.update(r),function(e){e?(e.css!==r.css||e.media!==r.media||e.sourceMap!==r.sourceMap||e.supports!==r.supports||e.layer!==r.layer)&&a.update(r=e):a.remove()}}(u,t);t.byIndex=l,e.splice(l,0,{identifier:s,updater:d,references:1})}n.push(s)}return n}r.exports=function(r,o){var n=t(r=r||[],o=o||{});return function(r){r=r||[];for(var l=0;l<n.length;l++){var i=a(n[l]);e[i].references--}for(var p=t(r,o),c=0;c<n.length;c++){var s=a(n[c]);0===e[s].references&&(e[s].updater(),e.splice(s,1))}n=p}}},659(r){var e={};r.exports=function(r,a){var t=function(r){if(void 0===e[r]){var a=document.querySelector(r);if(window.HTMLIFrameElement&&a instanceof window.HTMLIFrameElement)try{a=a.contentDocument.head}catch(r){a=null}e[r]=a}return e[r]}(r);if(!t)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");t.appendChild(a)}},540(r){r.exports=function(r){var e=document.createElement("style");return r.setAttributes(e,r.attributes),r.insert(e,r.options),e}},56(r,e,a){r.exports=function(r){var e=a.nc;e&&r.setAttribute("nonce",e)}},825(r){r.exports=function(r){if("u"<typeof document)return{update:function(){},remove:function(){}};var e=r.insertStyleElement(r);return{update:function(a){var t,o,n;t="",a.supports&&(t+="@supports (".concat(a.supports,") {")),a.media&&(t+="@media ".concat(a.media," {")),(o=void 0!==a.layer)&&(t+="@layer".concat(a.layer.length>0?" ".concat(a.layer):""," {")),t+=a.css,o&&(t+="}"),a.media&&(t+="}"),a.supports&&(t+="}"),(n=a.sourceMap)&&"u">typeof btoa&&(t+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(n))))," */")),r.styleTagTransform(t,e,r.options)},remove:function(){var r;null===(r=e).parentNode||r.parentNode.removeChild(r)}}}},113(r){r.exports=function(r,e){if(e.styleSheet)e.styleSheet.cssText=r;else{for(;e.firstChild;)e.removeChild(e.firstChild);e.appendChild(document.createTextNode(r))}}},579(r,e,a){var t=a(72),o=a.n(t),n=a(825),l=a.n(n),i=a(659),p=a.n(i),c=a(56),s=a.n(c),b=a(540),u=a.n(b),d=a(113),f=a.n(d),w=a(475),v={};v.styleTagTransform=f(),v.setAttributes=s(),v.insert=p().bind(null,"head"),v.domAPI=l(),v.insertStyleElement=u(),o()(w.A,v),w.A&&w.A.locals&&w.A.locals}}]);