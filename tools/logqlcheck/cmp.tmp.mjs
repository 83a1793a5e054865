import { parser } from '@grafana/lezer-logql';
import fs from 'node:fs';
const qs = fs.readFileSync('/tmp/lokiprobe/queries.txt','utf8').split('\n').filter(Boolean);
const loki = fs.readFileSync('/tmp/lokiprobe/loki.out','utf8').split('\n').filter(Boolean);
for (let i=0;i<qs.length;i++){
  const q=qs[i]; const tree=parser.parse(q); let err=null;
  tree.iterate({enter(n){ if(n.type.isError && err===null) err=n.from; }});
  const g = err===null?'ok ':'ERR';
  const l = loki[i].startsWith('OK')?'ok ':'REJ';
  const flag = (g==='ok ') !== (l==='ok ') ? '<<' : '  ';
  console.log(`${flag} grammar=${g} loki=${l} ${q}${l==='REJ' ? '   ## '+loki[i].replace(/^REJ .*?: /,'').slice(0,110):''}`);
}
