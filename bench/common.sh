# Shared by bench/run and bench/guard (sourced, not run): a fixed sandbox and the
# callgrind instruction counts of the hook's two per-change runs and of the floor.
#
# Counts repeat exactly for the same binary, input and environment, so every counted
# process starts from `env -i` with the same short list of variables, inside paths of
# a fixed length, with the same shell pid argument.

# bench_build: builds the release binary the figures are for and prints its path. On
# x86_64 Linux it is linked statically (glibc), which spares the dynamic loader's symbol
# binding, about half of entering a project; `--target` keeps the flag off build scripts
# and proc-macros, which cannot be static. Elsewhere: the default build. Either way without
# the `gateway` feature: its server stack is not the hook's, and need not be compiled.
bench_build() {
  if [ "$(uname -sm)" = "Linux x86_64" ]; then
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked -q --no-default-features --bin ccenv --target x86_64-unknown-linux-gnu
    printf '%s\n' "$PWD/target/x86_64-unknown-linux-gnu/release/ccenv"
  else
    cargo build --release --locked -q --no-default-features --bin ccenv
    printf '%s\n' "$PWD/target/release/ccenv"
  fi
}

# bench_sandbox CCENV WORK: an allowed glm project (model and one [env] entry, a stored
# key) under WORK, driven by HOME alone (the platform folders, as a user has them).
bench_sandbox() {
  BENCH_CCENV=$1 BENCH_WORK=$2
  BENCH_ENV=(env -i "HOME=$BENCH_WORK/home" PATH=/usr/bin:/bin LANG=C.UTF-8 TERM=dumb)
  mkdir -p "$BENCH_WORK/home" "$BENCH_WORK/proj" "$BENCH_WORK/outside"
  printf 'sk-bench-0123456789abcdef' | "${BENCH_ENV[@]}" "$BENCH_CCENV" key set glm 2>/dev/null
  cat > "$BENCH_WORK/proj/.claude-provider.toml" <<'TOML'
provider = "glm"
model = "glm-4.7"
[env]
API_TIMEOUT_MS = "3000000"
TOML
  (cd "$BENCH_WORK/proj" && "${BENCH_ENV[@]}" PWD="$BENCH_WORK/proj" "$BENCH_CCENV" allow 2>/dev/null)
}

# bench_floor WORK: builds `fn main() {}` with `rustc -O` (the least any process-based
# hook costs: exec, the dynamic loader, Rust's runtime start-up) and prints its path.
bench_floor() {
  printf 'fn main() {}\n' > "$1/empty.rs"
  rustc -O "$1/empty.rs" -o "$1/empty"
  printf '%s\n' "$1/empty"
}

# The hook's own way in: a bash that cd's and runs the command, as the prompt hook does.
# `enter` runs in the project with nothing applied; `leave` runs outside it after
# applying the project's output (its exported variables and CCENV_STATE).
bench_script() {
  case $1 in
    enter) printf '%s' 'cd "$W/proj" && exec "$@"' ;;
    leave) printf '%s' 'cd "$W/proj" && eval "$("$C" hook-env bash 4242)" && cd "$W/outside" && exec "$@"' ;;
    floor) printf '%s' 'cd "$W/proj" && exec "$@"' ;;
  esac
}

# bench_exec CASE CMD...: runs CMD (with "$C" the binary) the way CASE sets it up.
bench_exec() {
  local case=$1; shift
  "${BENCH_ENV[@]}" W="$BENCH_WORK" C="$BENCH_CCENV" bash --norc --noprofile -c "$(bench_script "$case")" bench "$@"
}

# bench_count CASE [PROGRAM]: instructions of one whole hook-env process (or of PROGRAM).
bench_count() {
  local case=$1 prog=${2:-} log
  log=$(mktemp)
  local cmd=("$BENCH_CCENV" hook-env bash 4242)
  [ -n "$prog" ] && cmd=("$prog")
  # Once uncounted: the first run creates the stamp and state folders.
  bench_exec "$case" "${cmd[@]}" >/dev/null 2>&1
  bench_exec "$case" valgrind --tool=callgrind --callgrind-out-file=/dev/null "${cmd[@]}" >/dev/null 2>"$log"
  grep -o 'Collected : [0-9]*' "$log" | grep -o '[0-9]*$' || { cat "$log" >&2; rm -f "$log"; return 1; }
  rm -f "$log"
}

# bench_counts CCENV WORK: sets FLOOR, ENTER and LEAVE.
bench_counts() {
  bench_sandbox "$1" "$2"
  local empty
  empty=$(bench_floor "$2")
  FLOOR=$(bench_count floor "$empty")
  ENTER=$(bench_count enter)
  LEAVE=$(bench_count leave)
}

# ratio A B: B/A with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }
