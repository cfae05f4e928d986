/**
 * Preloaded into every test module (`deno task test` passes `--preload
 * tests/fast_exit.ts`): once the test process starts to exit, it ends it with
 * `_exit(status)`, so the C libraries' destructors do not run.
 *
 * Why: `deno test` runs each module in a worker of its own, and every GPU module
 * brings up Mesa's GL driver (llvmpipe, with LLVM) and tears it down again. After
 * many such cycles the process sometimes crashed at exit, after every test had
 * passed: the main thread in `exit()` running the libraries' destructors while
 * another thread, exiting at the same moment, found glibc's heap corrupted
 * ("double free or corruption", "corrupted size vs. prev_size in fastbins"), or a
 * segfault inside an exit handler (core dumps; about 1 run in 6 of the whole
 * suite, 1 in 5–10 of a script that starts 20 workers each making a device and
 * reading a buffer back). Ending with `_exit` first made it 0 in 40 of that
 * script. A process with one device for its whole life, such as every CLI
 * command, exits cleanly (`tests/exit_test.ts`), so this is confined to the tests.
 *
 * The exit status is kept: `on_exit` handlers receive it, and `_exit` takes it as
 * its argument. Handlers run last-registered first, so the handler is registered
 * again as each module unloads, after whatever the driver registered while the
 * module ran. Elsewhere than on Linux with glibc this does nothing.
 *
 * @module
 */

/** Registers `_exit(status)` as the process's next exit handler; false where that is not possible. */
export function registerFastExit(): boolean {
  if (Deno.build.os !== "linux") return false;
  let libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
      on_exit: { parameters: ["pointer", "pointer"], result: "i32" },
    });
  } catch {
    return false; // no glibc (musl has no on_exit), or no --allow-ffi
  }
  const exitNow = libc.symbols.dlsym(null, new TextEncoder().encode("_exit\0"));
  const ok = exitNow !== null && libc.symbols.on_exit(exitNow, null) === 0;
  libc.close(); // libc itself stays loaded: the handler's address stays valid
  return ok;
}

registerFastExit();
globalThis.addEventListener("unload", () => registerFastExit());
