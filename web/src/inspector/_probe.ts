import ELK from 'elkjs/lib/elk.bundled.js';
const elk = new ELK();
export const p = elk.layout({ id: 'root' });
