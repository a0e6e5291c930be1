//! Script mode's reading of lines — `-c SQL`, `-f FILE`, standard input, `\i FILE` —
//! into statements and backslash commands for the [`Runner`].
//!
//! Lines go through a [`StatementBuffer`] (with psql's variables interpolated); a line
//! starting with `\` while no statement is pending is a backslash command. A
//! `COPY ... FROM STDIN;` (or `\copy ... from stdin`) takes the lines after it, up to a
//! `\.` line, as its data, as psql does. `\i FILE` (and `\ir`) reads FILE the same way,
//! nested up to [`MAX_INCLUDE_DEPTH`] deep; `\e` reads what the editor left as if it had
//! been typed in place.
//!
//! While a named file is read, the runner is told the file and the line each statement
//! ends on, so its errors read `hdb:FILE:LINE: ERROR: ...` as psql's do.
//!
//! A script stops at Ctrl-C, at `\q` (in an included file too, as in psql), and when
//! `ON_ERROR_STOP` is on, at the first failure; [`Outcome`] tells the including file.

use std::io::{self, Write};
use std::path::Path;

use super::input::StatementBuffer;
use super::runner::{Flow, Location, Runner};

/// How deep `\i` may nest (a file including itself stops here with an error).
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// How reading a script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// At the end of its input.
    Finished,
    /// At `\q`.
    Quit,
    /// At Ctrl-C, or at an error with `ON_ERROR_STOP` on.
    Stopped,
}

/// Runs the statements and backslash commands of `lines`, read from the file named
/// `file` (`None`: not a named file), `depth` includes deep.
pub fn run_lines<S: AsRef<str>>(
    runner: &mut Runner,
    out: &mut impl Write,
    lines: impl Iterator<Item = io::Result<S>>,
    file: Option<&str>,
    depth: usize,
) -> io::Result<Outcome> {
    let mut reader = Reader {
        buffer: StatementBuffer::new(),
        copy: None,
        file: file.map(str::to_string),
        depth,
        line: 0,
    };
    for line in lines {
        let line = line?;
        reader.line += 1;
        if let Some(outcome) = reader.read(runner, out, line.as_ref())? {
            return Ok(outcome);
        }
    }
    reader.finish(runner, out)
}

/// `\i FILE` (`relative`: `\ir`, from the directory of the file being read), run from
/// script mode or the shell at `depth`.
pub fn include(
    runner: &mut Runner,
    out: &mut impl Write,
    path: &str,
    relative: bool,
    depth: usize,
) -> io::Result<Outcome> {
    let resolved = match (relative, runner.current_file()) {
        (true, Some(current)) => Path::new(current)
            .parent()
            .unwrap_or(Path::new(""))
            .join(path),
        _ => Path::new(path).to_path_buf(),
    };
    let name = resolved.display().to_string();
    if depth >= MAX_INCLUDE_DEPTH {
        runner.error(
            out,
            &format!("{name}: \\i nested more than {MAX_INCLUDE_DEPTH} files deep"),
        )?;
        return Ok(stop_after(runner, false).unwrap_or(Outcome::Finished));
    }
    let text = match std::fs::read_to_string(&resolved) {
        Ok(text) => text,
        Err(e) => {
            // As psql words it: without Rust's "(os error N)".
            let message = e.to_string();
            let message = message.split(" (os error").next().unwrap_or(&message);
            runner.error(out, &format!("{name}: {message}"))?;
            return Ok(stop_after(runner, false).unwrap_or(Outcome::Finished));
        }
    };
    let outer = runner.set_location(None);
    let outcome = run_lines(runner, out, text.lines().map(Ok), Some(&name), depth + 1);
    runner.set_location(outer);
    outcome
}

/// Whether a script stops after a command that `succeeded` (or not): at Ctrl-C, and
/// with `ON_ERROR_STOP` at the first failure.
fn stop_after(runner: &Runner, succeeded: bool) -> Option<Outcome> {
    (runner.interrupted() || (runner.on_error_stop() && !succeeded)).then_some(Outcome::Stopped)
}

/// The state of one script being read.
struct Reader {
    buffer: StatementBuffer,
    /// A COPY FROM STDIN waiting for its data lines, and the statements that came after
    /// it on its line.
    copy: Option<(String, Vec<u8>, Vec<String>)>,
    file: Option<String>,
    depth: usize,
    /// The number of the line being read (from 1).
    line: usize,
}

impl Reader {
    /// Reads one line; `Some` when the script ends here.
    fn read(
        &mut self,
        runner: &mut Runner,
        out: &mut impl Write,
        line: &str,
    ) -> io::Result<Option<Outcome>> {
        if let Some(file) = &self.file {
            runner.set_location(Some(Location {
                file: file.clone(),
                line: self.line,
            }));
        }
        if let Some((_, data, _)) = &mut self.copy {
            if line != "\\." {
                data.extend_from_slice(line.as_bytes());
                data.push(b'\n');
                return Ok(None);
            }
            return self.end_copy(runner, out);
        }
        if !self.buffer.is_continuing() && line.trim_start().starts_with('\\') {
            let failures = runner.failures();
            let flow = runner.meta(out, line)?;
            let succeeded = runner.failures() == failures;
            match flow {
                Flow::Quit => return Ok(Some(Outcome::Quit)),
                Flow::CopyData(sql) => self.copy = Some((sql, Vec::new(), Vec::new())),
                Flow::Continue => {}
                Flow::Include { path, relative } => {
                    match include(runner, out, &path, relative, self.depth)? {
                        Outcome::Finished => {}
                        outcome => return Ok(Some(outcome)),
                    }
                    return Ok(None);
                }
                Flow::Edited(text) => {
                    for edited in text.lines() {
                        if let Some(outcome) = self.read(runner, out, edited)? {
                            return Ok(Some(outcome));
                        }
                    }
                    return Ok(None);
                }
            }
            return Ok(stop_after(runner, succeeded));
        }
        let variables = runner.variables().clone();
        for statement in self
            .buffer
            .push_line_with(line, &|name| variables.get(name))
        {
            if let Some((_, _, after)) = &mut self.copy {
                after.push(statement);
            } else if Runner::wants_copy_data(&statement) {
                self.copy = Some((statement, Vec::new(), Vec::new()));
            } else {
                let succeeded = runner.statement(out, &statement)?;
                if let Some(outcome) = stop_after(runner, succeeded) {
                    return Ok(Some(outcome));
                }
            }
        }
        Ok(None)
    }

    /// Runs the pending COPY with its data, then the statements that followed it.
    fn end_copy(
        &mut self,
        runner: &mut Runner,
        out: &mut impl Write,
    ) -> io::Result<Option<Outcome>> {
        let Some((sql, data, after)) = self.copy.take() else {
            return Ok(None);
        };
        let succeeded = runner.copy_in(out, &sql, &data)?;
        if let Some(outcome) = stop_after(runner, succeeded) {
            return Ok(Some(outcome));
        }
        for statement in after {
            let succeeded = runner.statement(out, &statement)?;
            if let Some(outcome) = stop_after(runner, succeeded) {
                return Ok(Some(outcome));
            }
        }
        Ok(None)
    }

    /// The end of the input: it ends pending COPY data, and runs an unfinished last
    /// statement.
    fn finish(mut self, runner: &mut Runner, out: &mut impl Write) -> io::Result<Outcome> {
        if let Some(outcome) = self.end_copy(runner, out)? {
            return Ok(outcome);
        }
        if let Some(statement) = self.buffer.finish() {
            let succeeded = runner.statement(out, &statement)?;
            if let Some(outcome) = stop_after(runner, succeeded) {
                return Ok(outcome);
            }
        }
        Ok(Outcome::Finished)
    }
}
