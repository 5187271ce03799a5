//! Splitting output into bounded lines, and the bounded stderr tail kept for error messages.

use super::*;

/// Splits a byte stream into lines at `\n`, `\r\n` or `\r`, cutting lines at [`MAX_LINE_BYTES`].
#[derive(Default)]
pub(crate) struct LineSplitter {
    buffer: Vec<u8>,
    after_cr: bool,
}

impl LineSplitter {
    pub(crate) fn push(&mut self, bytes: &[u8], out: &mut dyn FnMut(String)) {
        for &byte in bytes {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    out(self.take());
                }
                _ => {
                    self.after_cr = false;
                    self.buffer.push(byte);
                    if self.buffer.len() >= MAX_LINE_BYTES {
                        out(self.take());
                    }
                }
            }
        }
    }

    pub(crate) fn finish(&mut self, out: &mut dyn FnMut(String)) {
        self.after_cr = false;
        if !self.buffer.is_empty() {
            out(self.take());
        }
    }

    fn take(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.buffer).into_owned();
        self.buffer.clear();
        text
    }
}

/// The last non-blank stderr lines, bounded by [`STDERR_TAIL_LINES`] and [`STDERR_TAIL_BYTES`]
/// (counting one newline per line).
#[derive(Default)]
pub(crate) struct Tail {
    pub(crate) lines: VecDeque<String>,
    bytes: usize,
}

impl Tail {
    pub(crate) fn push(&mut self, line: &str) {
        let line = line.trim_end();
        if line.trim_start().is_empty() {
            return;
        }
        let mut end = line.len().min(STDERR_TAIL_BYTES - 1);
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        let line = &line[..end];
        self.bytes += line.len() + 1;
        self.lines.push_back(line.to_owned());
        while self.lines.len() > STDERR_TAIL_LINES || self.bytes > STDERR_TAIL_BYTES {
            match self.lines.pop_front() {
                Some(old) => self.bytes -= old.len() + 1,
                None => break,
            }
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut text = String::with_capacity(self.bytes);
        for (index, line) in self.lines.iter().enumerate() {
            if index > 0 {
                text.push('\n');
            }
            text.push_str(line);
        }
        text
    }
}
