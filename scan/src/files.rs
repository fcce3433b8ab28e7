//! The source files of the scanned directory, read once and shared by the scanners.

use std::path::{Path, PathBuf};

use crate::{Gap, ScanError};

/// Files larger than this are skipped (generated or vendored code, not route declarations).
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;
/// A bound on how much of a tree is read.
pub const MAX_FILES: usize = 20_000;

/// Directories never read: dependencies, build output, virtual environments, VCS data.
const SKIP_DIRS: &[&str] = &[
    "node_modules",
    "target",
    "__pycache__",
    "venv",
    "env",
    "site-packages",
    "dist",
    "build",
];

#[derive(Debug, Clone)]
pub struct Source {
    /// Relative to the scanned directory, `/`-separated.
    pub rel: String,
    pub text: String,
}

impl Source {
    #[must_use]
    pub fn ext(&self) -> &str {
        self.rel.rsplit_once('.').map_or("", |(_, e)| e)
    }
}

#[derive(Debug, Default)]
pub struct Sources {
    pub root: PathBuf,
    pub files: Vec<Source>,
    pub skipped: Vec<Gap>,
}

impl Sources {
    pub fn with_ext<'a>(&'a self, exts: &'a [&'a str]) -> impl Iterator<Item = &'a Source> + 'a {
        self.files.iter().filter(move |f| exts.contains(&f.ext()))
    }

    #[must_use]
    pub fn get(&self, rel: &str) -> Option<&Source> {
        self.files.iter().find(|f| f.rel == rel)
    }
}

const EXTS: &[&str] = &["py", "js", "mjs", "cjs", "ts", "mts", "cts", "tsx", "rs"];

pub fn collect(root: &Path) -> Result<Sources, ScanError> {
    let mut sources = Sources {
        root: root.to_path_buf(),
        ..Sources::default()
    };
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| ScanError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !name.starts_with('.') && !SKIP_DIRS.contains(&name.as_str()) {
                    stack.push(path);
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
            if !EXTS.contains(&ext) || name.ends_with(".d.ts") {
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if size > MAX_FILE_BYTES || sources.files.len() >= MAX_FILES {
                sources.skipped.push(Gap {
                    file: rel,
                    line: 0,
                    operation: None,
                    message: format!(
                        "not read: larger than {MAX_FILE_BYTES} bytes or beyond {MAX_FILES} files"
                    ),
                });
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(text) => sources.files.push(Source { rel, text }),
                Err(e) => sources.skipped.push(Gap {
                    file: rel,
                    line: 0,
                    operation: None,
                    message: format!("not read: {e}"),
                }),
            }
        }
    }
    sources.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(sources)
}
