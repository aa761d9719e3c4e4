// Shared by the benchmark apps: the same handler, and the "listening" line the harness waits for.
export const handler = (_req, res) => res.end('ok');
export const port = Number(process.env.PORT);
export const listening = () =>
  process.stdout.write(`${JSON.stringify({ msg: `listening on port ${port}` })}\n`);
