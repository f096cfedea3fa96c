// Allocation churn: every request builds many short-lived objects and arrays (the garbage
// collector's share of the time is the bottleneck, not the arithmetic).
// Usage: node --cpu-prof alloc_churn.js [seconds]   (stops by itself; default 3 s)
"use strict";

const seconds = Number(process.argv[2] || 3);

function buildRows(n) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    rows.push({ id: i, name: "row-" + i, tags: ["a", "b", String(i)], pos: { x: i, y: i * 2 } });
  }
  return rows;
}

function handleRequest(id) {
  const rows = buildRows(200);
  let sum = 0;
  for (const row of rows) {
    const copy = { ...row, pos: { ...row.pos } }; // a temporary copy per row
    sum += copy.pos.x + copy.tags.length + id;
  }
  return sum;
}

// Recent requests are kept a little while (a cache of the last 128): their objects outlive a
// young-generation collection and get copied, which is what makes the churn costly.
const recent = [];
function serve(id) {
  recent.push(buildRows(50));
  if (recent.length > 128) recent.shift();
  return handleRequest(id);
}

function main() {
  const stopAt = Date.now() + seconds * 1000;
  let total = 0;
  let n = 0;
  while (Date.now() < stopAt) {
    for (let i = 0; i < 100; i++) total += serve(n++);
  }
  console.log(`requests: ${n}, checksum ${total % 1000}`);
}

main();
