// The folder a static bench server serves: its first argument, else BENCH_STATIC_ROOT.

export function staticRootArg() {
  const root = process.argv[2] || process.env.BENCH_STATIC_ROOT;
  if (!root) {
    process.stderr.write('usage: node <server>.mjs <root> (or set BENCH_STATIC_ROOT)\n');
    process.exit(2);
  }
  return root;
}
