import Database from 'better-sqlite3';
const db = new Database(process.argv[2], { readonly: true });
console.log(db.prepare("select type, count(*) n from events group by type").all());
for (const r of db.prepare("select id,type,payload from events where type not in ('command:progress','machine') or json_extract(payload,'$.kind') not in ('task') order by id").all()) console.log(r.id, r.type, r.payload.slice(0, 400));
