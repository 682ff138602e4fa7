# ccenv hook for zsh. Install with this line at the end of ~/.zshrc:
#   eval "$(ccenv hook zsh)"
# An unchanged prompt starts no process: the hook compares the directory,
# CCENV_STATE (another tool may change it) and the files ccenv watched on its last run
# against a stamp, with shell builtins only.

# One function, no nesting (FUNCNEST=1 still runs it). The check reads the same under any
# option (every expansion quoted or defaulted, arrays in braces); when something changed,
# `emulate -L zsh` gives the rest, and the statements it evals, zsh's own options whatever
# the user set (ksharrays, nounset, shwordsplit, errexit, emulate sh, …) until it returns.
_ccenv_hook() {
  local __ccenv_status=$? __ccenv_out __ccenv_f __ccenv_run=
  if [[ "$PWD" != "${__ccenv_pwd-}" || "${CCENV_STATE-}" != "${__ccenv_state-}" ]]; then
    __ccenv_run=1
  else
    for __ccenv_f in "${__ccenv_present[@]}"; do
      [[ -e "$__ccenv_f" && ! "$__ccenv_f" -nt "${__ccenv_stamp-}" ]] || __ccenv_run=1
    done
    for __ccenv_f in "${__ccenv_absent[@]}"; do
      [[ -e "$__ccenv_f" ]] && __ccenv_run=1
    done
  fi
  if [[ -n "$__ccenv_run" ]]; then
    emulate -L zsh
    # Apply only complete output: an interrupted or failed run changes nothing.
    if __ccenv_out="$(@CCENV@ hook-env zsh "$$" "${__ccenv_said-}")"; then
      eval "$__ccenv_out"
    fi
    typeset -g __ccenv_pwd=$PWD
    typeset -g __ccenv_state=${CCENV_STATE-}
  fi
  return $__ccenv_status
}

# Tells `ccenv doctor` which shell has the hook (a pid, nothing secret).
export CCENV_SHELL="zsh:$$"

# In an anonymous function, so the user's options (ksharrays, nounset) do not change
# how the arrays are read.
() {
  emulate -L zsh
  typeset -ga __ccenv_present __ccenv_absent precmd_functions chpwd_functions
  (( ${precmd_functions[(I)_ccenv_hook]} )) || precmd_functions=(_ccenv_hook $precmd_functions)
  (( ${chpwd_functions[(I)_ccenv_hook]} )) || chpwd_functions=(_ccenv_hook $chpwd_functions)
}
