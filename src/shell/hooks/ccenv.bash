# ccenv hook for bash. Install with this line at the end of ~/.bashrc:
#   eval "$(ccenv hook bash)"
# An unchanged prompt starts no process: __ccenv_changed compares the directory,
# CCENV_STATE (another tool may change it) and the files ccenv watched on its last run
# against a stamp, with shell builtins only.
# The __ccenv_* variables are assigned by the eval'd output of `ccenv hook-env`.
# shellcheck disable=SC2154

__ccenv_changed() {
  [[ "$PWD" == "${__ccenv_pwd-}" && "${CCENV_STATE-}" == "${__ccenv_state-}" ]] || return 0
  local f
  for f in ${__ccenv_present[@]+"${__ccenv_present[@]}"}; do
    [[ -e "$f" && ! "$f" -nt "${__ccenv_stamp-}" ]] || return 0
  done
  for f in ${__ccenv_absent[@]+"${__ccenv_absent[@]}"}; do
    [[ -e "$f" ]] && return 0
  done
  return 1
}

_ccenv_hook() {
  local __ccenv_status=$? __ccenv_out
  if __ccenv_changed; then
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
