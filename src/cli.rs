//! The command line, as clap reads it. Each subcommand is run by its file in `cmd/`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use crate::shell::ShellName;

#[derive(Parser)]
#[command(
    name = "ccenv",
    version,
    about = "Pin a Claude Code provider per repository",
    long_about = "Pin a Claude Code provider per repository.\n\n\
        A repository holds a .claude-provider.toml (committed, never a secret). With the hook \
        installed, every shell that enters the repository gets that provider's ANTHROPIC_* \
        variables, and every shell that leaves gets back exactly what it had before.",
    after_help = "Get started:\n  \
        eval \"$(ccenv hook bash)\"      # in ~/.bashrc (zsh: hook zsh; fish: ccenv hook fish | source)\n  \
        ccenv key set glm              # paste the key; stored 0600 outside every repository\n  \
        cd my-repo && ccenv init glm   # writes and allows .claude-provider.toml"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Print the shell hook to put in your shell's startup file
    #[command(after_help = "Examples:\n  \
        eval \"$(ccenv hook bash)\"    # last line of ~/.bashrc\n  \
        eval \"$(ccenv hook zsh)\"     # ~/.zshrc\n  \
        ccenv hook fish | source      # ~/.config/fish/config.fish\n  \
        Invoke-Expression (& ccenv hook powershell | Out-String)    # $PROFILE\n  \
        ccenv hook cmd > \"%LOCALAPPDATA%\\clink\\ccenv.lua\"       # cmd with Clink")]
    Hook {
        /// The shell whose startup file gets the hook
        shell: ShellName,
    },

    /// Print the statements that apply this directory's provider in one shell
    #[command(after_help = "Examples:\n  \
        eval \"$(ccenv export --shell bash)\"\n  \
        ccenv export --shell fish | source\n  \
        ccenv export --shell powershell | Out-String | Invoke-Expression\n  \
        for /f \"delims=\" %i in ('ccenv export --shell cmd') do @%i\n  \
        ccenv export --json            # {\"set\": {...}, \"unset\": [...]}\n\n\
        Keys are masked when standard output is a terminal.")]
    Export {
        /// The shell that evaluates the output
        #[arg(long, value_enum, required_unless_present = "json")]
        shell: Option<ShellName>,
        /// Print {"set": {...}, "unset": [...]} instead of shell statements
        #[arg(long, conflicts_with = "shell")]
        json: bool,
        /// Set removed variables to "" instead (for tools such as mise that can only set;
        /// Claude Code and the Anthropic SDKs treat "" as unset)
        #[arg(long)]
        blank_removed: bool,
    },

    /// Internal: what the hook runs when something changed
    #[command(hide = true)]
    HookEnv {
        shell: String,
        pid: u32,
        #[arg(default_value = "")]
        said: String,
    },

    /// Trust the project file here (or in DIR) in its current content
    #[command(after_help = "Example:\n  \
        ccenv allow        # after reviewing .claude-provider.toml\n\n\
        The record covers the project's path and the SHA-256 of .claude-provider.toml and \
        .claude-provider.local.toml: any edit needs a new `ccenv allow`.")]
    Allow {
        /// The project folder (default: the current one, or the nearest above with a project file)
        dir: Option<PathBuf>,
    },

    /// Block the project file here (or in DIR) without further notices
    #[command(after_help = "Example:\n  ccenv deny ~/src/untrusted-clone")]
    Deny {
        /// The project folder (default: the current one, or the nearest above with a project file)
        dir: Option<PathBuf>,
    },

    /// Show what applies here: file, trust, provider, endpoint, models, masked key
    #[command(after_help = "Examples:\n  ccenv status\n  ccenv status --json | jq .provider\n  \
        ccenv status --short       # the provider this shell has applied, for prompts")]
    Status {
        /// The folder to look at (default: the current one), resolved as `cd DIR` would
        dir: Option<PathBuf>,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
        /// Print only the provider this shell has applied (or nothing); reads no file
        #[arg(long, conflicts_with = "json")]
        short: bool,
    },

    /// Print one JSON line each time what applies in DIR changes (for editors)
    #[command(
        after_help = "Example:\n  ccenv watch ~/src/app    # runs until stopped or its output is closed"
    )]
    Watch {
        /// The folder to watch (default: the current one)
        dir: Option<PathBuf>,
    },

    /// Print shell completions
    #[command(after_help = "Install (zsh: put `fpath=(~/.zfunc $fpath)` before `compinit` in ~/.zshrc):\n  \
        mkdir -p ~/.local/share/bash-completion/completions\n  \
        ccenv completions bash > ~/.local/share/bash-completion/completions/ccenv\n  \
        mkdir -p ~/.zfunc\n  \
        ccenv completions zsh > ~/.zfunc/_ccenv\n  \
        mkdir -p ~/.config/fish/completions\n  \
        ccenv completions fish > ~/.config/fish/completions/ccenv.fish\n  \
        ccenv completions powershell | Out-String | Invoke-Expression      # in $PROFILE\n  \
        ccenv completions cmd > \"%LOCALAPPDATA%\\clink\\ccenv_completions.lua\"")]
    Completions {
        /// The shell to print completions for
        shell: ShellName,
    },

    /// Print the man page (roff)
    #[command(after_help = "Example:\n  ccenv man > ~/.local/share/man/man1/ccenv.1 && man ccenv")]
    Man,

    /// Run one command with this directory's provider; its exit code is passed through
    #[command(after_help = "Examples:\n  \
        ccenv exec -- claude -p \"explain this repo\"\n  \
        ccenv exec -- python app.py\n\n\
        Refuses to run when the project file is missing, blocked or invalid.")]
    Exec {
        /// The command and its arguments, after `--`
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
        command: Vec<OsString>,
    },

    /// Start, stop or inspect the local gateway (openai-chat providers, fallback chains)
    #[command(after_help = "Examples:\n  \
        ccenv gateway status     # running? which provider serves each project, cool-downs\n  \
        ccenv gateway stop       # until a shell enters a gateway project again\n\n\
        It starts by itself when a shell enters a project that needs it or `ccenv exec` runs one.")]
    Gateway {
        #[command(subcommand)]
        action: GatewayAction,
    },

    /// Requests and tokens through the gateway, per project, provider, model or day
    #[command(after_help = "Examples:\n  \
        ccenv usage                       # last 7 days, per project\n  \
        ccenv usage --since 30d --by provider\n  \
        ccenv usage --by day --json")]
    Usage {
        /// How far back: 30m, 12h, 7d, 2w
        #[arg(long, default_value = "7d")]
        since: String,
        /// project, provider, model or day
        #[arg(long, default_value = "project")]
        by: String,
        /// Print JSON instead of the table and chart
        #[arg(long)]
        json: bool,
    },

    /// Write a commented .claude-provider.toml here and allow it
    #[command(after_help = "Examples:\n  \
        ccenv init glm\n  \
        ccenv init deepseek --model deepseek-v4-pro")]
    Init {
        /// A preset id (`ccenv providers`) or one from your config.toml
        provider: String,
        /// ANTHROPIC_MODEL, and the model for roles the preset leaves open
        #[arg(long)]
        model: Option<String>,
        /// Replace an existing file
        #[arg(long)]
        force: bool,
    },

    /// List the providers a project may name (presets and your own)
    #[command(after_help = "Examples:\n  ccenv providers\n  ccenv providers --json")]
    Providers {
        /// Print the providers as JSON
        #[arg(long)]
        json: bool,
    },

    /// Check the setup: hook, project file, provider, key, Claude Code's settings files
    #[command(after_help = "Examples:\n  \
        ccenv doctor\n  \
        ccenv doctor --online          # one 1-token request to the endpoint\n  \
        ccenv doctor --json\n  \
        ccenv doctor --fix-onboarding  # add hasCompletedOnboarding to ~/.claude.json\n\n\
        Exit code 1 when any check reports a problem.")]
    Doctor {
        /// Send one minimal Messages request (max_tokens 1) to the endpoint
        #[arg(long)]
        online: bool,
        /// Seconds to wait for the endpoint with --online
        #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
        timeout: f64,
        /// Print the checks as JSON
        #[arg(long)]
        json: bool,
        /// Add "hasCompletedOnboarding": true to ~/.claude.json, keeping everything else
        #[arg(long)]
        fix_onboarding: bool,
    },

    /// Move a provider from ~/.claude/settings.json into ccenv and print the project file
    #[command(after_help = "Examples:\n  \
        ccenv import > .claude-provider.toml && ccenv allow\n  \
        ccenv import --remove-from-claude-settings   # also take them out of the global file\n  \
        ccenv import --name work --from ~/old/settings.json\n\n\
        The endpoint is matched to a preset or added to config.toml, the key is stored in \
        the key store, and the project file is printed. The global file changes only with \
        --remove-from-claude-settings: exactly the imported variables go, after a backup, \
        and every other key and the file's formatting stay.")]
    Import {
        /// Provider id (and key name) to use instead of the preset match or the host name
        #[arg(long)]
        name: Option<String>,
        /// Settings file to read (default: $CLAUDE_CONFIG_DIR or ~/.claude, settings.json)
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Remove the imported variables and every auth variable from that file (a timestamped
        /// backup is written first)
        #[arg(long)]
        remove_from_claude_settings: bool,
        /// Print what would happen and change nothing
        #[arg(long)]
        dry_run: bool,
        /// Replace a different key already stored under the same name
        #[arg(long)]
        replace_key: bool,
    },

    /// Put this project's provider where IDE extensions and background agents see it
    #[command(name = "claude-settings")]
    ClaudeSettings {
        #[command(subcommand)]
        action: ClaudeSettingsAction,
    },

    /// Store, list and remove provider keys (kept outside every repository)
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
}

#[derive(Subcommand)]
pub enum KeyAction {
    /// Store a key: typed without echo, or read from standard input
    #[command(after_help = "Examples:\n  \
        ccenv key set glm\n  \
        pass show glm | ccenv key set glm")]
    Set {
        /// Key name: the provider id, or the `credential` a project names
        name: String,
    },
    /// List stored keys, masked
    #[command(after_help = "Example:\n  ccenv key list")]
    List,
    /// Remove a stored key
    #[command(after_help = "Example:\n  ccenv key rm glm")]
    Rm {
        /// Key name, as `ccenv key list` shows it
        name: String,
    },
    /// Print the key of the allowed project at DIR (Claude Code's apiKeyHelper runs this)
    #[command(hide = true)]
    Helper { dir: PathBuf },
}

#[derive(Subcommand)]
pub enum ClaudeSettingsAction {
    /// Merge the project's non-secret variables and an apiKeyHelper into .claude/settings.local.json
    #[command(
        after_help = "Example:\n  ccenv claude-settings write    # then open the folder in VS Code\n\n\
        No key is written: Claude Code gets it from `ccenv key helper`. The file is added to \
        .git/info/exclude when git does not already ignore it."
    )]
    Write,
    /// Take out exactly what `write` put in, restoring earlier values
    #[command(after_help = "Example:\n  ccenv claude-settings remove")]
    Remove,
}

#[derive(Subcommand)]
pub enum GatewayAction {
    /// Start it in the background (once per user; no-op when it runs)
    Start,
    /// Stop it
    Stop,
    /// Is it running, and which provider serves each project?
    Status {
        /// Print the status as JSON
        #[arg(long)]
        json: bool,
    },
}
