// A JSON.stringify hot path: each request serializes a large response object.
// Usage: node --cpu-prof json_stringify.js [seconds]   (stops by itself; default 3 s)
"use strict";

const seconds = Number(process.argv[2] || 3);

const payload = {
  items: Array.from({ length: 300 }, (_, i) => ({
    id: i,
    name: "item-name-for-the-response",
    tags: ["alpha", "beta", "gamma"],
    score: i * 1.5,
    nested: { colour: "blue", size: "large", origin: "loopback" },
  })),
};

function renderResponse(id) {
  payload.requestId = id;
  return JSON.stringify(payload);
}

function handleRequest(id) {
  const body = renderResponse(id);
  return body.length;
}

function main() {
  const stopAt = Date.now() + seconds * 1000;
  let bytes = 0;
  let n = 0;
  while (Date.now() < stopAt) {
    bytes += handleRequest(n++);
  }
  console.log(`requests: ${n}, bytes ${bytes}`);
}

main();
