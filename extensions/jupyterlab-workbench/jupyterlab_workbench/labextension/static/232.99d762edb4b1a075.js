"use strict";(self.rspackChunkjupyterlab_workbench=self.rspackChunkjupyterlab_workbench||[]).push([[232],{475(r,e,a){var o=a(601),t=a.n(o),n=a(314),l=(a.n(n))()(t());l.push([r.id,`.wb-lab-sidebar {
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
`,""]),a.d(e,{},{A:l})},314(r){r.exports=function(r){var e=[];return e.toString=function(){return this.map(function(e){var a="",o=void 0!==e[5];return e[4]&&(a+="@supports (".concat(e[4],") {")),e[2]&&(a+="@media ".concat(e[2]," {")),o&&(a+="@layer".concat(e[5].length>0?" ".concat(e[5]):""," {")),a+=r(e),o&&(a+="}"),e[2]&&(a+="}"),e[4]&&(a+="}"),a}).join("")},e.i=function(r,a,o,t,n){"string"==typeof r&&(r=[[null,r,void 0]]);var l={};if(o)for(var i=0;i<this.length;i++){var c=this[i][0];null!=c&&(l[c]=!0)}for(var p=0;p<r.length;p++){var s=[].concat(r[p]);o&&l[s[0]]||(void 0!==n&&(void 0===s[5]||(s[1]="@layer".concat(s[5].length>0?" ".concat(s[5]):""," {").concat(s[1],"}")),s[5]=n),a&&(s[2]&&(s[1]="@media ".concat(s[2]," {").concat(s[1],"}")),s[2]=a),t&&(s[4]?(s[1]="@supports (".concat(s[4],") {").concat(s[1],"}"),s[4]=t):s[4]="".concat(t)),e.push(s))}},e}},601(r){r.exports=function(r){return r[1]}},72(r){var e=[];function a(r){for(var a=-1,o=0;o<e.length;o++)if(e[o].identifier===r){a=o;break}return a}function o(r,o){for(var t={},n=[],l=0;l<r.length;l++){var i=r[l],c=o.base?i[0]+o.base:i[0],p=t[c]||0,s="".concat(c," ").concat(p);t[c]=p+1;var b=a(s),u={css:i[1],media:i[2],sourceMap:i[3],supports:i[4],layer:i[5]};if(-1!==b)e[b].references++,e[b].updater(u);else{var d=function(r,e){var a=e.domAPI(e);return a.update(r),function(e){e?(e.css!==r.css||e.media!==r.media||e.sourceMap!==r.sourceMap||e.supports!==r.supports||e.layer!==r.layer)&&a.update(r=e):a.remove()}}(u,o);o.byIndex=l,e.splice(l,0,{identifier:s,updater:d,references:1})}n.push(s)}return n}r.exports=function(r,t){var n=o(r=r||[],t=t||{});return function(r){r=r||[];for(var l=0;l<n.length;l++){var i=a(n[l]);e[i].references--}for(var c=o(r,t),p=0;p<n.length;p++){var s=a(n[p]);0===e[s].references&&(e[s].updater(),e.splice(s,1))}n=c}}},659(r){var e={};r.exports=function(r,a){var o=function(r){if(void 0===e[r]){var a=document.querySelector(r);if(window.HTMLIFrameElement&&a instanceof window.HTMLIFrameElement)try{a=a.contentDocument.head}catch(r){a=null}e[r]=a}return e[r]}(r);if(!o)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");o.appendChild(a)}},540(r){r.exports=function(r){var e=document.createElement("style");return r.setAttributes(e,r.attributes),r.insert(e,r.options),e}},56(r,e,a){r.exports=function(r){var e=a.nc;e&&r.setAttribute("nonce",e)}},825(r){r.exports=function(r){if("u"<typeof document)return{update:function(){},remove:function(){}};var e=r.insertStyleElement(r);return{update:function(a){var o,t,n;o="",a.supports&&(o+="@supports (".concat(a.supports,") {")),a.media&&(o+="@media ".concat(a.media," {")),(t=void 0!==a.layer)&&(o+="@layer".concat(a.layer.length>0?" ".concat(a.layer):""," {")),o+=a.css,t&&(o+="}"),a.media&&(o+="}"),a.supports&&(o+="}"),(n=a.sourceMap)&&"u">typeof btoa&&(o+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(n))))," */")),r.styleTagTransform(o,e,r.options)},remove:function(){var r;null===(r=e).parentNode||r.parentNode.removeChild(r)}}}},113(r){r.exports=function(r,e){if(e.styleSheet)e.styleSheet.cssText=r;else{for(;e.firstChild;)e.removeChild(e.firstChild);e.appendChild(document.createTextNode(r))}}},579(r,e,a){var o=a(72),t=a.n(o),n=a(825),l=a.n(n),i=a(659),c=a.n(i),p=a(56),s=a.n(p),b=a(540),u=a.n(b),d=a(113),f=a.n(d),v=a(475),w={};w.styleTagTransform=f(),w.setAttributes=s(),w.insert=c().bind(null,"head"),w.domAPI=l(),w.insertStyleElement=u(),t()(v.A,w),v.A&&v.A.locals&&v.A.locals}}]);