"use strict";
// Runs the native binary from the per-platform package npm installed beside this one
// (an optional dependency filtered by os/cpu; nothing is downloaded). Only commands typed
// by hand pass through Node: `ccenv hook` prints the native binary's own absolute path
// (std::env::current_exe), so the hook run at every prompt never starts Node.
const { spawn } = require("child_process");

module.exports = function launch(bin) {
  const platform = `${process.platform}-${process.arch}`;
  const file = `@ccenv/${platform}/bin/${bin}${process.platform === "win32" ? ".exe" : ""}`;
  let exe;
  try {
    exe = require.resolve(file);
  } catch {
    console.error(
      `ccenv: no native binary for ${platform}: the package @ccenv/${platform} is not installed.\n` +
        "  If npm skipped optional dependencies (--omit=optional), reinstall with `npm install -g ccenv`;\n" +
        "  on another platform, build it with `cargo install ccenv`."
    );
    process.exit(1);
  }
  const child = spawn(exe, process.argv.slice(2), { stdio: "inherit" });
  // The terminal sends Ctrl-C and Ctrl-\ to the whole process group, the child included:
  // Node must outlive them and leave the answer to the child (`ccenv exec -- claude`).
  for (const sig of ["SIGINT", "SIGQUIT"]) process.on(sig, () => {});
  // Signals sent to this launcher alone are passed on.
  for (const sig of ["SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("error", (err) => {
    console.error(`ccenv: cannot run ${exe}: ${err.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code);
    }
  });
};
