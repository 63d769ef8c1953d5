// Runs before npm start, test and bench: onecart supports one Node.js line (see
// package.json "engines"), and on an older one supabase-js lacks a global
// WebSocket and Realtime fails far from the cause. Plain JavaScript so that it
// runs, and says so, on any Node.
const [major] = process.versions.node.split(".").map(Number);
if (major < 24) {
  console.error(
    `onecart needs Node.js 24 or later; this is ${process.version}.\n` +
      "Install Node.js 24 LTS (https://nodejs.org, or nvm install 24) and run the command again.",
  );
  process.exit(1);
}
