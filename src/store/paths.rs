//! Where ccenv keeps things. Nothing here is global to other tools: the config folder
//! (user providers, keys) and the data folder (trust records, restore state, stamps).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub(crate) struct Paths {
    pub(crate) config_dir: PathBuf,
    pub(crate) data_dir: PathBuf,
}

impl Paths {
    /// `CCENV_CONFIG_DIR` / `CCENV_DATA_DIR` override the platform folders from `dirs`
    /// (`$XDG_CONFIG_HOME/ccenv`, `$XDG_DATA_HOME/ccenv` on Linux).
    pub(crate) fn from_env() -> Result<Paths> {
        let pick = |var: &str, default: Option<PathBuf>, what: &str| -> Result<PathBuf> {
            match std::env::var_os(var).filter(|v| !v.is_empty()) {
                Some(v) => Ok(PathBuf::from(v)),
                None => default
                    .map(|d| d.join("ccenv"))
                    .with_context(|| format!("cannot find the {what} folder; set {var}")),
            }
        };
        Ok(Paths {
            config_dir: pick("CCENV_CONFIG_DIR", dirs::config_dir(), "config")?,
            data_dir: pick("CCENV_DATA_DIR", dirs::data_dir(), "data")?,
        })
    }

    pub(crate) fn user_config(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub(crate) fn keys(&self) -> PathBuf {
        self.config_dir.join("keys.toml")
    }

    /// A per-shell file whose modification time marks that shell's last ccenv run.
    pub(crate) fn stamp(&self, shell_pid: u32) -> PathBuf {
        self.data_dir.join("stamps").join(shell_pid.to_string())
    }
}

/// The directory to work in, as the shell names it: `$PWD` when it is the same
/// directory as the real working directory (so paths through symlinks stay as the
/// user typed them), else the real one. `None` when the directory was deleted.
pub(crate) fn current_dir() -> Option<PathBuf> {
    let real = std::env::current_dir().ok()?;
    if let Some(pwd) = std::env::var_os("PWD").map(PathBuf::from)
        && pwd.is_absolute()
        && same_dir(&pwd, &real)
    {
        return Some(pwd);
    }
    Some(real)
}

/// The directory `arg` names (`cwd` when `None`), spelled as the shell spells it after
/// `cd arg`: joined to `cwd` (`$PWD`'s spelling) and with `.` and `..` taken lexically, as `cd`
/// does, when that spelling is the very directory; else the kernel's own answer. The
/// hook finds projects from that spelling, so trust records made here are the ones it
/// looks up (`deny .`, `allow ../x/` and `deny DIR/` name the same root as the hook).
pub(crate) fn resolve_dir(cwd: Option<&Path>, arg: Option<&Path>) -> Result<PathBuf> {
    let here = || cwd.map(Path::to_path_buf).context("the current directory no longer exists");
    let Some(arg) = arg else {
        return here();
    };
    let joined = if arg.is_absolute() { arg.to_path_buf() } else { here()?.join(arg) };
    let mut logical = PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                logical.pop();
            }
            other => logical.push(other),
        }
    }
    let physical =
        std::fs::canonicalize(&joined).with_context(|| format!("cannot open {}", arg.display()))?;
    if !physical.is_dir() {
        anyhow::bail!("{} is not a directory", arg.display());
    }
    // Windows: canonical paths carry a `\\?\` prefix that no shell shows.
    let keep = if cfg!(unix) { same_dir(&logical, &physical) } else { logical.is_dir() };
    Ok(if keep { logical } else { physical })
}

#[cfg(unix)]
pub(crate) fn same_dir(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
pub(crate) fn same_dir(a: &Path, b: &Path) -> bool {
    a == b
}
