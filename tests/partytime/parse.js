// Reads a podcast feed on stdin and prints what podcast-partytime (the Podcast Index's parser) makes of it,
// as JSON on stdout: tests/test_partytime.py asserts on it. Partytime's own log (pino, on stdout) is silenced.
"use strict";
process.env.PARTYTIME_LOG = process.env.PARTYTIME_LOG || "silent";
const { parseFeed } = require("podcast-partytime");

const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const feed = parseFeed(Buffer.concat(chunks).toString("utf8"));
  process.stdout.write(JSON.stringify(feed, null, 2) + "\n");
});
