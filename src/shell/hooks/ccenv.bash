# ccenv hook for bash. Install with this line at the end of ~/.bashrc:
#   eval "$(ccenv hook bash)"
# An unchanged prompt starts no process: the hook compares the directory,
# CCENV_STATE (another tool may change it) and the files ccenv watched on its last run
# against a stamp, with shell builtins only.
# The __ccenv_* variables are assigned by the eval'd output of `ccenv hook-env`.
# shellcheck disable=SC2154

# One function, no nesting (FUNCNEST=1 still runs it); every expansion has a default
# (set -u) and sits in quotes or [[ ]] (failglob, nullglob); nothing in it may fail
# outside a condition (set -e), and it reads the same in POSIX mode.
_ccenv_hook() {
  local __ccenv_status=$? __ccenv_out __ccenv_f __ccenv_run=
  if [[ "$PWD" != "${__ccenv_pwd-}" || "${CCENV_STATE-}" != "${__ccenv_state-}" ]]; then
    __ccenv_run=1
  else
    for __ccenv_f in ${__ccenv_present[@]+"${__ccenv_present[@]}"}; do
      if [[ ! -e "$__ccenv_f" || "$__ccenv_f" -nt "${__ccenv_stamp-}" ]]; then __ccenv_run=1; fi
    done
    for __ccenv_f in ${__ccenv_absent[@]+"${__ccenv_absent[@]}"}; do
      if [[ -e "$__ccenv_f" ]]; then __ccenv_run=1; fi
    done
  fi
  if [[ -n "$__ccenv_run" ]]; then
    # Apply only complete output: an interrupted or failed run changes nothing.
    if __ccenv_out="$(@CCENV@ hook-env bash "$$" "${__ccenv_said-}")"; then
      eval "$__ccenv_out"
    fi
    __ccenv_pwd=$PWD
    __ccenv_state=${CCENV_STATE-}
  fi
  return "$__ccenv_status"
}

# Tells `ccenv doctor` which shell has the hook (a pid, nothing secret).
export CCENV_SHELL="bash:$$"

if [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
  [[ " ${PROMPT_COMMAND[*]} " == *" _ccenv_hook "* ]] || PROMPT_COMMAND=(_ccenv_hook "${PROMPT_COMMAND[@]}")
else
  # PROMPT_COMMAND is a string here (the array form, bash >= 5.1, is handled above).
  # shellcheck disable=SC2128,SC2178
  [[ ";${PROMPT_COMMAND:-};" == *";_ccenv_hook;"* ]] || PROMPT_COMMAND="_ccenv_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
