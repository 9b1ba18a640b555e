//! The condition language of rule files: a small boolean/arithmetic expression
//! over a regex match's named captures and an event's fields, such as
//! `requested - newest >= 2 and cid != ""` or `msg =~ "timed out"`. Conditions
//! are parsed once (with nom) when a rule file is loaded, reporting mistakes with
//! a column and a caret, and then evaluated per candidate event against a lookup
//! function. Captures arrive as strings, so comparisons and arithmetic treat a
//! string that reads as a number as that number (as `i128`, so u64 CIDs fit).
//!
//! Grammar, loosest binding first:
//!
//! ```text
//! or      := and (("or" | "||") and)*
//! and     := not (("and" | "&&") not)*
//! not     := ("not" | "!") not | cmp
//! cmp     := add [ ("==" | "!=" | "<" | "<=" | ">" | ">=") add
//!                | ("=~" | "!~") string
//!                | ["not"] "in" "[" [add ("," add)* [","]] "]" ]
//! add     := mul (("+" | "-") mul)*
//! mul     := unary (("*" | "/" | "%") unary)*
//! unary   := "-" unary | primary
//! primary := int | float | string | "true" | "false" | "null"
//!          | ident | func "(" or ")" | "exists" "(" ident ")" | "(" or ")"
//! ident   := [A-Za-z_][A-Za-z0-9_.]*      func := "len" | "lower" | "int"
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while};
use nom::character::complete::{char, digit1, multispace0, one_of, satisfy};
use nom::combinator::{not, opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::sequence::{pair, terminated};
use nom::{IResult, Parser};
use regex::Regex;

/// Deepest nesting of parentheses, unary operators, calls and lists accepted by [`parse`].
pub const MAX_DEPTH: usize = 64;

/// Function names a condition may call.
pub const FUNCTIONS: [&str; 4] = ["len", "lower", "int", "exists"];

/// Words that cannot be used as identifiers.
const KEYWORDS: [&str; 7] = ["and", "or", "not", "in", "true", "false", "null"];

/// Characters that make up operators, used to describe a stray operator in errors.
const OP_CHARS: &str = "<>=!~&|+-*/%";

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A value seen or produced by a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Absent: a missing identifier, the `null` literal, or arithmetic on either.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer; `i128` so that any u64 (e.g. a CID) fits alongside negatives.
    Int(i128),
    /// A floating-point number.
    Float(f64),
    /// A string, e.g. a regex capture; read as a number where it parses as one.
    Str(String),
}

impl Value {
    /// Whether the value counts as true: `null`, `false`, `0`, `0.0` and `""` do not.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0 && !f.is_nan(),
            Value::Str(s) => !s.is_empty(),
        }
    }

    /// Whether the value is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value with its type, for error messages.
    fn describe(&self) -> String {
        match self {
            Value::Null => "null".to_string(),
            Value::Bool(b) => format!("bool {b}"),
            Value::Int(i) => format!("int {i}"),
            Value::Float(f) => format!("float {f}"),
            Value::Str(s) => format!("string {s:?}"),
        }
    }
}

/// Strings print raw (no quotes), since this form feeds `=~`, `len` and `lower`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i.into())
    }
}

impl From<u64> for Value {
    fn from(i: u64) -> Self {
        Value::Int(i.into())
    }
}

impl From<i128> for Value {
    fn from(i: i128) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

/// A value read as a number.
#[derive(Debug, Clone, Copy)]
enum Num {
    I(i128),
    F(f64),
}

/// Reads a string as a number if it looks like one. Only digits, signs, `.` and
/// exponents count, so words like "inf" or "nan" stay strings.
fn num_of_str(s: &str) -> Option<Num> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i128>() {
        return Some(Num::I(i));
    }
    let numeric = t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    if !numeric {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite()).map(Num::F)
}

/// The numeric reading of a value, if it has one.
fn as_num(v: &Value) -> Option<Num> {
    match v {
        Value::Int(i) => Some(Num::I(*i)),
        Value::Float(f) => Some(Num::F(*f)),
        Value::Str(s) => num_of_str(s),
        Value::Null | Value::Bool(_) => None,
    }
}

/// Orders two numbers; an int meeting a float is compared as float.
fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
        (Num::I(x), Num::F(y)) => (x as f64).partial_cmp(&y),
        (Num::F(x), Num::I(y)) => x.partial_cmp(&(y as f64)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(&y),
    }
}

/// Equality across types; `None` means the types cannot be compared.
fn loose_eq(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Null, Value::Null) => Some(true),
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Bool(x), Value::Bool(y)) => Some(x == y),
        // Event fields may carry booleans as text.
        (Value::Bool(x), Value::Str(s)) | (Value::Str(s), Value::Bool(x)) => match s.trim() {
            "true" => Some(*x),
            "false" => Some(!*x),
            _ => None,
        },
        (Value::Bool(_), _) | (_, Value::Bool(_)) => None,
        (Value::Str(x), Value::Str(y)) => match (num_of_str(x), num_of_str(y)) {
            (Some(p), Some(q)) => Some(num_cmp(p, q) == Some(Ordering::Equal)),
            _ => Some(x == y),
        },
        _ => match (as_num(a), as_num(b)) {
            (Some(p), Some(q)) => Some(num_cmp(p, q) == Some(Ordering::Equal)),
            _ => None,
        },
    }
}

/// Ordering across types: numbers (numeric strings included) numerically,
/// other string pairs lexically; `None` when the types do not order.
fn loose_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => match (num_of_str(x), num_of_str(y)) {
            (Some(p), Some(q)) => num_cmp(p, q),
            _ => Some(x.cmp(y)),
        },
        _ => num_cmp(as_num(a)?, as_num(b)?),
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Parse error pointing at a column.
// Display and Error are written by hand: thiserror would treat the field named
// `source` as the underlying error, which a String cannot be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// 1-based column of the problem, counted in chars over the whole source.
    pub column: usize,
    /// What was expected or went wrong.
    pub message: String,
    /// The condition text that failed to parse.
    pub source: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} at column {}", self.message, self.column)?;
        let (line, col) = locate(&self.source, self.column.saturating_sub(1));
        // Keep tabs in the padding so the caret lines up under tabbed source.
        let pad: String = line
            .chars()
            .take(col)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        writeln!(f, "  {line}")?;
        write!(f, "  {pad}^")
    }
}

impl std::error::Error for ExprError {}

/// The line holding char index `target` of `src`, and the index within that line.
fn locate(src: &str, target: usize) -> (&str, usize) {
    let mut start = 0;
    let mut last = ("", 0);
    for line in src.split('\n') {
        let len = line.chars().count();
        let shown = line.strip_suffix('\r').unwrap_or(line);
        if target <= start + len {
            return (shown, target - start);
        }
        last = (shown, len);
        start += len + 1;
    }
    last
}

/// Error while evaluating a parsed condition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// `/` or `%` with a zero right-hand side.
    #[error("division by zero in `{op}`")]
    DivisionByZero {
        /// The operator.
        op: &'static str,
    },
    /// An integer result outside `i128`, a non-finite float result, or a float too big for `int()`.
    #[error("arithmetic overflow in `{op}`")]
    Overflow {
        /// The operator or function.
        op: &'static str,
    },
    /// Arithmetic on values that are not numbers, e.g. `"abc" + 1`.
    #[error("cannot apply `{op}` to {operands}")]
    Type {
        /// The operator.
        op: &'static str,
        /// The offending operands with their types.
        operands: String,
    },
}

// ---------------------------------------------------------------------------
// Syntax tree
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl ArithOp {
    fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Rem => "%",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Len,
    Lower,
    Int,
}

// Chains of same-precedence operators are kept flat (a Vec, not nested boxes)
// so that `a + a + ... + a` does not build a deep tree whose evaluation or drop
// could exhaust the stack; only real nesting deepens the tree, and that is capped.
#[derive(Debug, Clone)]
enum Node {
    Lit(Value),
    Ident(String),
    Neg(Box<Node>),
    Not(Box<Node>),
    Or(Vec<Node>),
    And(Vec<Node>),
    Arith(Box<Node>, Vec<(ArithOp, Node)>),
    Cmp(Box<Node>, CmpOp, Box<Node>),
    Match {
        lhs: Box<Node>,
        re: Regex,
        negated: bool,
    },
    In {
        lhs: Box<Node>,
        list: Vec<Node>,
        negated: bool,
    },
    Call(Func, Box<Node>),
    Exists(String),
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

/// nom error carrying where it happened and, for committed failures, a message.
#[derive(Debug)]
struct PErr<'a> {
    at: &'a str,
    msg: Option<String>,
}

impl<'a> ParseError<&'a str> for PErr<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        PErr {
            at: input,
            msg: None,
        }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a str, T, PErr<'a>>;

/// A committed failure: no alternative should be tried, report this.
fn fail<'a, T>(at: &'a str, msg: impl Into<String>) -> PResult<'a, T> {
    Err(nom::Err::Failure(PErr {
        at,
        msg: Some(msg.into()),
    }))
}

/// A recoverable "nothing here" error.
fn nothing<T>(at: &str) -> PResult<'_, T> {
    Err(nom::Err::Error(PErr { at, msg: None }))
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Skips whitespace; cannot fail.
fn sp(i: &str) -> &str {
    multispace0::<_, PErr>(i).map_or(i, |(rest, _)| rest)
}

fn ch(c: char, i: &str) -> PResult<'_, char> {
    char(c).parse(i)
}

/// A keyword: the word not followed by an identifier character.
fn kw<'a>(word: &'static str) -> impl Parser<&'a str, Output = &'a str, Error = PErr<'a>> {
    terminated(tag(word), not(satisfy(is_ident_char)))
}

fn ident(i: &str) -> PResult<'_, &str> {
    recognize(pair(satisfy(is_ident_start), take_while(is_ident_char))).parse(i)
}

/// The token at the start of `s`, for "found `...`" in messages.
fn preview(s: &str) -> String {
    let Some(c) = s.chars().next() else {
        return String::new();
    };
    if is_ident_char(c) {
        s.chars()
            .take_while(|&c| is_ident_char(c))
            .take(24)
            .collect()
    } else if OP_CHARS.contains(c) {
        s.chars()
            .take_while(|&c| OP_CHARS.contains(c))
            .take(4)
            .collect()
    } else if c == '"' || c == '\'' {
        let mut out = String::from(c);
        for d in s.chars().skip(1).take(23) {
            out.push(d);
            if d == c {
                break;
            }
        }
        out
    } else {
        c.to_string()
    }
}

/// `", found `x`"`, or nothing at the end of input.
fn found(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(", found `{}`", preview(s))
    }
}

/// A string literal in `"` or `'`. `\\`, `\"`, `\'`, `\n` and `\t` are escapes;
/// any other backslash is kept as written so regexes like `"\d+"` read naturally.
fn string_lit(i: &str) -> PResult<'_, String> {
    let (rest, quote) = one_of("\"'").parse(i)?;
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((idx, c)) = chars.next() {
        if c == quote {
            return Ok((&rest[idx + c.len_utf8()..], out));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, e @ ('\\' | '"' | '\''))) => out.push(e),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, e)) => {
                out.push('\\');
                out.push(e);
            }
            None => break,
        }
    }
    fail(
        i,
        format!("unterminated string literal (missing closing {quote})"),
    )
}

/// The useful line of a regex error (its Display spans several lines).
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map(str::to_string)
        .unwrap_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "))
}

type Level<'s> = fn(&Cx<'s>, &'s str, usize) -> PResult<'s, Node>;

/// Parsing context: the whole source, for columns inside messages.
struct Cx<'s> {
    src: &'s str,
}

impl<'s> Cx<'s> {
    /// 1-based char column of `at`, a suffix of the source.
    fn col(&self, at: &str) -> usize {
        let off = self.src.len().saturating_sub(at.len());
        self.src.get(..off).map_or(off, |p| p.chars().count()) + 1
    }

    fn check_depth(&self, i: &'s str, depth: usize) -> PResult<'s, ()> {
        if depth > MAX_DEPTH {
            return fail(
                i,
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
            );
        }
        Ok((i, ()))
    }

    /// Parses the operand that must follow `after`; its absence is an error
    /// pointing just past the operator at end of input, else at the stray token.
    fn operand(
        &self,
        i: &'s str,
        after: &str,
        depth: usize,
        level: Level<'s>,
    ) -> PResult<'s, Node> {
        let j = sp(i);
        match level(self, j, depth) {
            Err(nom::Err::Error(_)) => fail(
                if j.is_empty() { i } else { j },
                format!("expected an operand after `{after}`{}", found(j)),
            ),
            r => r,
        }
    }

    fn or_expr(&self, i: &'s str, depth: usize) -> PResult<'s, Node> {
        self.check_depth(i, depth)?;
        let (mut i, first) = self.and_expr(i, depth)?;
        let mut items = vec![first];
        while let Ok((k, op)) = alt((tag("||"), kw("or"))).parse(sp(i)) {
            let (k, rhs) = self.operand(k, op, depth, Self::and_expr)?;
            items.push(rhs);
            i = k;
        }
        Ok((i, flatten(items, Node::Or)))
    }

    fn and_expr(&self, i: &'s str, depth: usize) -> PResult<'s, Node> {
        let (mut i, first) = self.not_expr(i, depth)?;
        let mut items = vec![first];
        while let Ok((k, op)) = alt((tag("&&"), kw("and"))).parse(sp(i)) {
            let (k, rhs) = self.operand(k, op, depth, Self::not_expr)?;
            items.push(rhs);
            i = k;
        }
        Ok((i, flatten(items, Node::And)))
    }

    fn not_expr(&self, i: &'s str, depth: usize) -> PResult<'s, Node> {
        // `!` but not the start of `!=` / `!~`.
        let bang = terminated(tag("!"), not(one_of("=~")));
        if let Ok((k, op)) = alt((kw("not"), bang)).parse(i) {
            self.check_depth(k, depth + 1)?;
            let (k, inner) = self.operand(k, op, depth + 1, Self::not_expr)?;
            return Ok((k, Node::Not(Box::new(inner))));
        }
        self.cmp_expr(i, depth)
    }

    fn cmp_expr(&self, i: &'s str, depth: usize) -> PResult<'s, Node> {
        let (i, lhs) = self.add_expr(i, depth)?;
        let j = sp(i);
        let lhs = Box::new(lhs);
        let (rest, node) = if let Ok((k, op)) = match_op(j) {
            let k2 = sp(k);
            let (k3, pattern) = match string_lit(k2) {
                Err(nom::Err::Error(_)) => {
                    return fail(
                        if k2.is_empty() { k } else { k2 },
                        format!(
                            "expected a string literal (the regex) after `{op}`{}",
                            found(k2)
                        ),
                    )
                }
                r => r?,
            };
            let re = match Regex::new(&pattern) {
                Ok(re) => re,
                Err(e) => {
                    return fail(
                        k2,
                        format!("invalid regex {pattern:?}: {}", regex_message(&e)),
                    )
                }
            };
            let negated = op == "!~";
            (k3, Node::Match { lhs, re, negated })
        } else if let Ok((k, op)) = cmp_op(j) {
            // `>>`, `===`, `<>` and the like: name the bogus operator itself.
            if let Some(c) = k.chars().next().filter(|&c| "<>=~".contains(c)) {
                return fail(j, format!("unknown operator `{}{c}`", op_symbol(op)));
            }
            let (k, rhs) = self.operand(k, op_symbol(op), depth, Self::add_expr)?;
            (k, Node::Cmp(lhs, op, Box::new(rhs)))
        } else if let Ok((k, negated)) = in_op(j) {
            let (k, list) = self.list(k, depth)?;
            (k, Node::In { lhs, list, negated })
        } else {
            return Ok((i, *lhs));
        };
        let after = sp(rest);
        if let Ok((_, op)) = match_op(after) {
            return fail(after, chain_message(op));
        }
        if let Ok((_, op)) = cmp_op(after) {
            return fail(after, chain_message(op_symbol(op)));
        }
        if in_op(after).is_ok() {
            return fail(after, chain_message("in"));
        }
        Ok((rest, node))
    }

    /// `[a, b, c]` after `in`; a trailing comma is allowed.
    fn list(&self, i: &'s str, depth: usize) -> PResult<'s, Vec<Node>> {
        let j = sp(i);
        let Ok((mut k, _)) = ch('[', j) else {
            return fail(
                if j.is_empty() { i } else { j },
                format!("expected `[` to start the list after `in`{}", found(j)),
            );
        };
        let mut items = Vec::new();
        loop {
            let k1 = sp(k);
            if let Ok((k2, _)) = ch(']', k1) {
                return Ok((k2, items));
            }
            self.check_depth(k1, depth + 1)?;
            let (k2, item) = match self.add_expr(k1, depth + 1) {
                Err(nom::Err::Error(_)) => {
                    return fail(
                        if k1.is_empty() { k } else { k1 },
                        format!("expected a list element or `]`{}", found(k1)),
                    )
                }
                r => r?,
            };
            items.push(item);
            let k3 = sp(k2);
            if let Ok((k4, _)) = ch(',', k3) {
                k = k4;
            } else if let Ok((k4, _)) = ch(']', k3) {
                return Ok((k4, items));
            } else {
                return fail(
                    if k3.is_empty() { k2 } else { k3 },
                    format!("expected `,` or `]` in the list{}", found(k3)),
                );
            }
        }
    }

    fn add_expr(&self, i: &'s str, depth: usize) -> PResult<'s, Node> {
        self.chain(i, depth, "+-", Self::mul_expr)
    }

    fn mul_expr(&self, i: &'s str, depth: usize) -> PResult<'s, Node> {
        self.chain(i, depth, "*/%", Self::unary)
    }

    /// A left-associative run of the arithmetic operators in `ops`.
    fn chain(&self, i: &'s str, depth: usize, ops: &str, level: Level<'s>) -> PResult<'s, Node> {
        let (mut i, first) = level(self, i, depth)?;
        let mut rest = Vec::new();
        while let Ok((k, c)) = one_of::<_, _, PErr>(ops).parse(sp(i)) {
            let op = match c {
                '+' => ArithOp::Add,
                '-' => ArithOp::Sub,
                '*' => ArithOp::Mul,
                '/' => ArithOp::Div,
                _ => ArithOp::Rem,
            };
            let (k, rhs) = self.operand(k, op.symbol(), depth, level)?;
            rest.push((op, rhs));
            i = k;
        }
        if rest.is_empty() {
            Ok((i, first))
        } else {
            Ok((i, Node::Arith(Box::new(first), rest)))
        }
    }

    fn unary(&self, i: &'s str, depth: usize) -> PResult<'s, Node> {
        let Ok((k, _)) = ch('-', i) else {
            return self.primary(i, depth);
        };
        self.check_depth(k, depth + 1)?;
        let (k, inner) = self.operand(k, "-", depth + 1, Self::unary)?;
        // Fold negative literals so `-5` is a plain literal.
        let node = match inner {
            Node::Lit(Value::Int(n)) => n.checked_neg().map_or_else(
                || Node::Neg(Box::new(Node::Lit(Value::Int(n)))),
                |m| Node::Lit(Value::Int(m)),
            ),
            Node::Lit(Value::Float(f)) => Node::Lit(Value::Float(-f)),
            other => Node::Neg(Box::new(other)),
        };
        Ok((k, node))
    }

    fn primary(&self, i: &'s str, depth: usize) -> PResult<'s, Node> {
        match i.chars().next() {
            Some('(') => self.parens(i, depth),
            Some('"' | '\'') => {
                let (k, s) = string_lit(i)?;
                Ok((k, Node::Lit(Value::Str(s))))
            }
            Some(c) if c.is_ascii_digit() => number(i),
            Some(c) if is_ident_start(c) => self.name(i, depth),
            _ => nothing(i),
        }
    }

    fn parens(&self, i: &'s str, depth: usize) -> PResult<'s, Node> {
        let (k, _) = ch('(', i)?;
        let (k, inner) = self.operand(k, "(", depth + 1, Self::or_expr)?;
        let k2 = sp(k);
        match ch(')', k2) {
            Ok((k3, _)) => Ok((k3, inner)),
            Err(_) => fail(
                if k2.is_empty() { k } else { k2 },
                format!(
                    "expected a closing `)` for the `(` at column {}{}",
                    self.col(i),
                    found(k2)
                ),
            ),
        }
    }

    /// An identifier, keyword literal, or function call.
    fn name(&self, i: &'s str, depth: usize) -> PResult<'s, Node> {
        let (k, name) = ident(i)?;
        match name {
            "true" => return Ok((k, Node::Lit(Value::Bool(true)))),
            "false" => return Ok((k, Node::Lit(Value::Bool(false)))),
            "null" => return Ok((k, Node::Lit(Value::Null))),
            "and" | "or" | "not" | "in" => return nothing(i),
            _ => {}
        }
        let Ok((args, _)) = ch('(', sp(k)) else {
            return Ok((k, Node::Ident(name.to_string())));
        };
        let func = match name {
            "len" => Func::Len,
            "lower" => Func::Lower,
            "int" => Func::Int,
            "exists" => return self.exists_args(args),
            _ => {
                return fail(
                    i,
                    format!(
                        "unknown function `{name}`; known functions are {}",
                        FUNCTIONS.join(", ")
                    ),
                )
            }
        };
        let a = sp(args);
        if a.is_empty() || a.starts_with(')') {
            return fail(a, format!("`{name}` takes exactly one argument"));
        }
        self.check_depth(a, depth + 1)?;
        let (k, arg) = self.operand(args, "(", depth + 1, Self::or_expr)?;
        let (k, _) = self.close_call(k, name)?;
        Ok((k, Node::Call(func, Box::new(arg))))
    }

    /// `exists` names a capture or field rather than evaluating an expression.
    fn exists_args(&self, args: &'s str) -> PResult<'s, Node> {
        let a = sp(args);
        match ident(a) {
            Ok((k, name)) if !KEYWORDS.contains(&name) => {
                let (k, _) = self.close_call(k, "exists")?;
                Ok((k, Node::Exists(name.to_string())))
            }
            _ => fail(
                if a.is_empty() { args } else { a },
                format!(
                    "`exists` takes an identifier, e.g. `exists(cid)`{}",
                    found(a)
                ),
            ),
        }
    }

    fn close_call(&self, i: &'s str, name: &str) -> PResult<'s, ()> {
        let j = sp(i);
        if let Ok((k, _)) = ch(')', j) {
            return Ok((k, ()));
        }
        if ch(',', j).is_ok() {
            return fail(j, format!("`{name}` takes exactly one argument"));
        }
        fail(
            if j.is_empty() { i } else { j },
            format!(
                "expected a closing `)` for the call to `{name}`{}",
                found(j)
            ),
        )
    }
}

/// One item stands alone; several become an `and`/`or` node.
fn flatten(mut items: Vec<Node>, make: fn(Vec<Node>) -> Node) -> Node {
    if items.len() == 1 {
        if let Some(only) = items.pop() {
            return only;
        }
    }
    make(items)
}

fn cmp_op(i: &str) -> PResult<'_, CmpOp> {
    let (k, op) = alt((
        tag("=="),
        tag("!="),
        tag("<="),
        tag(">="),
        tag("<"),
        tag(">"),
    ))
    .parse(i)?;
    let op = match op {
        "==" => CmpOp::Eq,
        "!=" => CmpOp::Ne,
        "<=" => CmpOp::Le,
        ">=" => CmpOp::Ge,
        "<" => CmpOp::Lt,
        _ => CmpOp::Gt,
    };
    Ok((k, op))
}

/// `=~` or `!~`.
fn match_op(i: &str) -> PResult<'_, &str> {
    alt((tag("=~"), tag("!~"))).parse(i)
}

fn op_symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// `in` or `not in`; the flag says whether it was negated.
fn in_op(i: &str) -> PResult<'_, bool> {
    if let Ok((k, _)) = kw("in").parse(i) {
        return Ok((k, false));
    }
    let (k, _) = kw("not").parse(i)?;
    let (k, _) = kw("in").parse(sp(k))?;
    Ok((k, true))
}

fn chain_message(op: &str) -> String {
    format!(
        "comparisons do not chain: unexpected `{op}` after a comparison; combine them with `and`"
    )
}

/// Integer (kept exact as i128) or float literal.
fn number(i: &str) -> PResult<'_, Node> {
    let (k, text) = recognize((
        digit1,
        opt((char('.'), digit1)),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    ))
    .parse(i)?;
    if text.contains(['.', 'e', 'E']) {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok((k, Node::Lit(Value::Float(f)))),
            _ => fail(i, "float literal out of range"),
        }
    } else {
        match text.parse::<i128>() {
            Ok(n) => Ok((k, Node::Lit(Value::Int(n)))),
            Err(_) => fail(
                i,
                format!("integer literal out of range (at most {})", i128::MAX),
            ),
        }
    }
}

/// Message for input left over after a complete expression.
fn trailing_message(rest: &str) -> String {
    let tok = preview(rest);
    if tok == ")" {
        return "unmatched closing `)`".to_string();
    }
    if tok.chars().next().is_some_and(|c| OP_CHARS.contains(c)) {
        let hint = match tok.as_str() {
            "=" => "; use `==` to compare",
            "&" => "; use `and` or `&&`",
            "|" => "; use `or` or `||`",
            _ => "",
        };
        return format!("unknown operator `{tok}`{hint}");
    }
    format!("unexpected `{tok}` after a complete expression; expected an operator or the end")
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// A parsed condition.
#[derive(Debug, Clone)]
pub struct Expr {
    src: String,
    root: Node,
}

/// Parses a condition, reporting the first problem with its column.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let cx = Cx { src };
    let error = |at: &str, message: String| ExprError {
        column: cx.col(at),
        message,
        source: src.to_string(),
    };
    let start = sp(src);
    let (rest, root) = match cx.or_expr(start, 0) {
        Ok(r) => r,
        Err(nom::Err::Error(_)) => {
            let what = if start.is_empty() {
                "expected an expression, found end of input".to_string()
            } else {
                format!("expected an expression{}", found(start))
            };
            return Err(error(start, what));
        }
        Err(nom::Err::Failure(e)) => {
            let msg = e.msg.unwrap_or_else(|| "syntax error".to_string());
            return Err(error(e.at, msg));
        }
        Err(nom::Err::Incomplete(_)) => {
            return Err(error("", "unexpected end of input".to_string()));
        }
    };
    let rest = sp(rest);
    if !rest.is_empty() {
        return Err(error(rest, trailing_message(rest)));
    }
    Ok(Expr {
        src: src.to_string(),
        root,
    })
}

impl FromStr for Expr {
    type Err = ExprError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl TryFrom<String> for Expr {
    type Error = ExprError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        parse(&s)
    }
}

/// Lets rule structs hold a condition directly; the parse error becomes the serde error.
impl<'de> serde::Deserialize<'de> for Expr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Shows the source text.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.src)
    }
}

impl Expr {
    /// Evaluates against `lookup`, which maps an identifier to its value (`None` = missing = `Null`).
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<Value, EvalError> {
        self.root.eval(lookup)
    }

    /// Evaluates and tests truthiness; an evaluation error counts as no match.
    pub fn matches(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> bool {
        self.eval(lookup).is_ok_and(|v| v.is_truthy())
    }

    /// Every identifier referenced (including `exists` arguments), in first-use order, without repeats.
    pub fn identifiers(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.root.collect_identifiers(&mut out);
        out
    }

    /// The text the condition was parsed from.
    pub fn source(&self) -> &str {
        &self.src
    }
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

impl Node {
    fn is_null_literal(&self) -> bool {
        matches!(self, Node::Lit(Value::Null))
    }

    fn collect_identifiers(&self, out: &mut Vec<String>) {
        let mut push = |name: &String| {
            if !out.contains(name) {
                out.push(name.clone());
            }
        };
        match self {
            Node::Ident(name) | Node::Exists(name) => push(name),
            Node::Lit(_) => {}
            Node::Neg(e) | Node::Not(e) | Node::Call(_, e) | Node::Match { lhs: e, .. } => {
                e.collect_identifiers(out)
            }
            Node::Or(items) | Node::And(items) => {
                items.iter().for_each(|n| n.collect_identifiers(out))
            }
            Node::Arith(first, rest) => {
                first.collect_identifiers(out);
                rest.iter().for_each(|(_, n)| n.collect_identifiers(out));
            }
            Node::Cmp(l, _, r) => {
                l.collect_identifiers(out);
                r.collect_identifiers(out);
            }
            Node::In { lhs, list, .. } => {
                lhs.collect_identifiers(out);
                list.iter().for_each(|n| n.collect_identifiers(out));
            }
        }
    }

    fn eval(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<Value, EvalError> {
        Ok(match self {
            Node::Lit(v) => v.clone(),
            Node::Ident(name) => lookup(name).unwrap_or(Value::Null),
            Node::Neg(e) => negate(e.eval(lookup)?)?,
            Node::Not(e) => Value::Bool(!e.eval(lookup)?.is_truthy()),
            Node::Or(items) => {
                for item in items {
                    if item.eval(lookup)?.is_truthy() {
                        return Ok(Value::Bool(true));
                    }
                }
                Value::Bool(false)
            }
            Node::And(items) => {
                for item in items {
                    if !item.eval(lookup)?.is_truthy() {
                        return Ok(Value::Bool(false));
                    }
                }
                Value::Bool(true)
            }
            Node::Arith(first, rest) => {
                let mut acc = first.eval(lookup)?;
                for (op, rhs) in rest {
                    acc = arith(*op, acc, rhs.eval(lookup)?)?;
                }
                acc
            }
            Node::Cmp(l, op, r) => {
                let (a, b) = (l.eval(lookup)?, r.eval(lookup)?);
                let null_test = l.is_null_literal() || r.is_null_literal();
                Value::Bool(compare(*op, &a, &b, null_test))
            }
            Node::Match { lhs, re, negated } => match lhs.eval(lookup)? {
                Value::Null => Value::Bool(false),
                v => Value::Bool(re.is_match(&v.to_string()) != *negated),
            },
            Node::In { lhs, list, negated } => {
                let v = lhs.eval(lookup)?;
                // `x not in [a, b]` means `x != a and x != b`, so Null stays false.
                let (op, stop_on) = if *negated {
                    (CmpOp::Ne, false)
                } else {
                    (CmpOp::Eq, true)
                };
                for item in list {
                    let w = item.eval(lookup)?;
                    if compare(op, &v, &w, item.is_null_literal()) == stop_on {
                        return Ok(Value::Bool(stop_on));
                    }
                }
                Value::Bool(!stop_on)
            }
            Node::Call(func, arg) => call(*func, arg.eval(lookup)?)?,
            Node::Exists(name) => Value::Bool(lookup(name).is_some_and(|v| !v.is_null())),
        })
    }
}

/// Compares two values. A Null side makes the comparison false unless the
/// expression itself wrote `null` (`x == null`, `x != null`), which tests for absence.
fn compare(op: CmpOp, a: &Value, b: &Value, null_test: bool) -> bool {
    if a.is_null() || b.is_null() {
        let both = a.is_null() && b.is_null();
        return null_test
            && match op {
                CmpOp::Eq => both,
                CmpOp::Ne => !both,
                _ => false,
            };
    }
    match op {
        CmpOp::Eq => loose_eq(a, b).unwrap_or(false),
        CmpOp::Ne => loose_eq(a, b).is_none_or(|eq| !eq),
        CmpOp::Lt => loose_cmp(a, b).is_some_and(Ordering::is_lt),
        CmpOp::Le => loose_cmp(a, b).is_some_and(Ordering::is_le),
        CmpOp::Gt => loose_cmp(a, b).is_some_and(Ordering::is_gt),
        CmpOp::Ge => loose_cmp(a, b).is_some_and(Ordering::is_ge),
    }
}

fn negate(v: Value) -> Result<Value, EvalError> {
    match (&v, as_num(&v)) {
        (Value::Null, _) => Ok(Value::Null),
        (_, Some(Num::I(i))) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or(EvalError::Overflow { op: "-" }),
        (_, Some(Num::F(f))) => Ok(Value::Float(-f)),
        (_, None) => Err(EvalError::Type {
            op: "-",
            operands: v.describe(),
        }),
    }
}

fn arith(op: ArithOp, a: Value, b: Value) -> Result<Value, EvalError> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    let sym = op.symbol();
    // `+` joins text: `file + ":" + line` builds a location from captures.
    if matches!(op, ArithOp::Add)
        && (as_num(&a).is_none() || as_num(&b).is_none())
        && (matches!(a, Value::Str(_)) || matches!(b, Value::Str(_)))
    {
        return Ok(Value::Str(format!("{a}{b}")));
    }
    let (Some(x), Some(y)) = (as_num(&a), as_num(&b)) else {
        return Err(EvalError::Type {
            op: sym,
            operands: format!("{} and {}", a.describe(), b.describe()),
        });
    };
    let overflow = EvalError::Overflow { op: sym };
    let zero = EvalError::DivisionByZero { op: sym };
    match (x, y) {
        (Num::I(x), Num::I(y)) => {
            if matches!(op, ArithOp::Div | ArithOp::Rem) && y == 0 {
                return Err(zero);
            }
            let r = match op {
                ArithOp::Add => x.checked_add(y),
                ArithOp::Sub => x.checked_sub(y),
                ArithOp::Mul => x.checked_mul(y),
                ArithOp::Div => x.checked_div(y),
                ArithOp::Rem => x.checked_rem(y),
            };
            r.map(Value::Int).ok_or(overflow)
        }
        (x, y) => {
            let (x, y) = (to_f64(x), to_f64(y));
            if matches!(op, ArithOp::Div | ArithOp::Rem) && y == 0.0 {
                return Err(zero);
            }
            let r = match op {
                ArithOp::Add => x + y,
                ArithOp::Sub => x - y,
                ArithOp::Mul => x * y,
                ArithOp::Div => x / y,
                ArithOp::Rem => x % y,
            };
            // NaN/inf inputs are passed through; only overflow from finite inputs is an error.
            if r.is_infinite() && x.is_finite() && y.is_finite() {
                return Err(overflow);
            }
            Ok(Value::Float(r))
        }
    }
}

fn to_f64(n: Num) -> f64 {
    match n {
        Num::I(i) => i as f64,
        Num::F(f) => f,
    }
}

/// Truncates a float to an integer, refusing values `i128` cannot hold.
fn float_to_int(f: f64) -> Result<Value, EvalError> {
    let limit = 2f64.powi(127);
    if f.is_finite() && f >= -limit && f < limit {
        Ok(Value::Int(f.trunc() as i128))
    } else {
        Err(EvalError::Overflow { op: "int" })
    }
}

fn call(func: Func, v: Value) -> Result<Value, EvalError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match func {
        Func::Len => Value::Int(v.to_string().chars().count() as i128),
        Func::Lower => Value::Str(v.to_string().to_lowercase()),
        Func::Int => match v {
            Value::Bool(b) => Value::Int(b.into()),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => float_to_int(f)?,
            Value::Str(s) => str_to_int(&s)?,
            Value::Null => Value::Null,
        },
    })
}

/// `int()` of a string: decimal, `0x` hex, or a float truncated; Null if none of these.
fn str_to_int(s: &str) -> Result<Value, EvalError> {
    let t = s.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return Ok(u128::from_str_radix(hex, 16)
            .ok()
            .and_then(|u| i128::try_from(u).ok())
            .map_or(Value::Null, Value::Int));
    }
    match num_of_str(t) {
        Some(Num::I(i)) => Ok(Value::Int(i)),
        Some(Num::F(f)) => float_to_int(f),
        None => Ok(Value::Null),
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, Value)]) -> HashMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn eval_with(src: &str, pairs: &[(&str, Value)]) -> Result<Value, EvalError> {
        let map = vars(pairs);
        let e = parse(src).unwrap_or_else(|e| panic!("{src:?} should parse:\n{e}"));
        e.eval(&|n: &str| map.get(n).cloned())
    }

    fn ev(src: &str) -> Value {
        eval_with(src, &[]).unwrap_or_else(|e| panic!("{src:?}: {e}"))
    }

    fn is(src: &str, pairs: &[(&str, Value)]) -> bool {
        let map = vars(pairs);
        parse(src)
            .unwrap_or_else(|e| panic!("{src:?} should parse:\n{e}"))
            .matches(&|n: &str| map.get(n).cloned())
    }

    fn s(v: &str) -> Value {
        Value::Str(v.to_string())
    }

    fn err(src: &str) -> ExprError {
        match parse(src) {
            Ok(e) => panic!("{src:?} should not parse, got {e:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn examples_from_rule_files() {
        assert!(is(
            "requested > newest",
            &[("requested", s("9")), ("newest", s("0"))]
        ));
        // Numerically, not lexically: "9" > "10" as text.
        assert!(!is(
            "requested > newest",
            &[("requested", s("9")), ("newest", s("10"))]
        ));
        let ok = [("requested", s("7")), ("newest", s("5")), ("cid", s("42"))];
        assert!(is(r#"requested - newest >= 2 and cid != """#, &ok));
        assert!(!is(
            r#"requested - newest >= 2 and cid != """#,
            &[("requested", s("7")), ("newest", s("5")), ("cid", s(""))]
        ));
        let src = r#"not (attempt < 3) or level == "error""#;
        assert!(is(src, &[("attempt", s("3")), ("level", s("info"))]));
        assert!(!is(src, &[("attempt", s("2")), ("level", s("info"))]));
        assert!(is(src, &[("attempt", s("2")), ("level", s("error"))]));
        assert!(is("delay_s * 2 > 10", &[("delay_s", s("5.5"))]));
        assert!(!is("delay_s * 2 > 10", &[("delay_s", s("5"))]));
        assert!(is(
            r#"msg =~ "timed out""#,
            &[("msg", s("request timed out after 5s"))]
        ));
    }

    #[test]
    fn precedence() {
        assert_eq!(ev("1 + 2 * 3"), Value::Int(7));
        assert_eq!(ev("(1 + 2) * 3"), Value::Int(9));
        assert_eq!(ev("10 - 4 - 3"), Value::Int(3));
        assert_eq!(ev("100 / 10 / 5"), Value::Int(2));
        assert_eq!(ev("2 * 7 % 4"), Value::Int(2));
        assert_eq!(ev("-2 * 3"), Value::Int(-6));
        assert_eq!(ev("- (2 + 3)"), Value::Int(-5));
        assert_eq!(ev("1 + 2 * 3 == 7"), Value::Bool(true));
        // or < and < not < comparison
        assert_eq!(ev("true or false and false"), Value::Bool(true));
        assert_eq!(ev("(true or false) and false"), Value::Bool(false));
        assert_eq!(ev("not 1 == 2"), Value::Bool(true));
        assert_eq!(ev("not true and false"), Value::Bool(false));
        assert_eq!(ev("not false or true"), Value::Bool(true));
        assert_eq!(ev("! !true"), Value::Bool(true));
        assert_eq!(ev("!(1 > 2) && 3 >= 3 || false"), Value::Bool(true));
        assert_eq!(ev("1+2*3-4/2"), Value::Int(5));
    }

    #[test]
    fn every_operator() {
        assert_eq!(ev("7 + 2"), Value::Int(9));
        assert_eq!(ev("7 - 2"), Value::Int(5));
        assert_eq!(ev("7 * 2"), Value::Int(14));
        assert_eq!(ev("7 / 2"), Value::Int(3));
        assert_eq!(ev("-7 / 2"), Value::Int(-3));
        assert_eq!(ev("7 % 4"), Value::Int(3));
        assert_eq!(ev("7.5 % 2"), Value::Float(1.5));
        assert_eq!(ev("7 / 2.0"), Value::Float(3.5));
        assert_eq!(ev("1.5e1 + 1"), Value::Float(16.0));
        assert_eq!(ev("-3"), Value::Int(-3));
        for (src, want) in [
            ("1 == 1", true),
            ("1 != 1", false),
            ("1 < 2", true),
            ("2 < 2", false),
            ("2 <= 2", true),
            ("3 > 2", true),
            ("2 > 2", false),
            ("2 >= 2", true),
            ("1 >= 2", false),
            ("1 == 1.0", true),
            ("'a' < 'b'", true),
            ("\"abc\" == 'abc'", true),
            ("true == true", true),
            ("true != false", true),
            ("\"abc\" =~ \"^a.c$\"", true),
            ("\"abc\" !~ \"^a.c$\"", false),
            ("2 in [1, 2, 3]", true),
            ("5 in [1, 2, 3]", false),
            ("5 not in [1, 2, 3]", true),
            ("2 not in [1, 2, 3]", false),
            ("1 in []", false),
            ("1 in [1,]", true),
            ("true and true", true),
            ("true && false", false),
            ("false or true", true),
            ("false || false", false),
            ("not true", false),
            ("!false", true),
        ] {
            assert_eq!(ev(src), Value::Bool(want), "{src}");
        }
    }

    #[test]
    fn numeric_strings_coerce() {
        let cid = s("13052662023604289317"); // > 2^63, < 2^64
        let other = s("13052662023604289316");
        assert!(is(
            "cid > other",
            &[("cid", cid.clone()), ("other", other.clone())]
        ));
        assert!(is("cid > 9223372036854775808", &[("cid", cid.clone())]));
        assert!(is("cid == 13052662023604289317", &[("cid", cid.clone())]));
        assert!(is(
            "cid in [1, 13052662023604289317]",
            &[("cid", cid.clone())]
        ));
        assert_eq!(
            eval_with("cid - other", &[("cid", cid.clone()), ("other", other)]),
            Ok(Value::Int(1))
        );
        assert_eq!(
            eval_with("cid + 1", &[("cid", cid)]),
            Ok(Value::Int(13052662023604289318))
        );
        assert_eq!(ev("18446744073709551615 + 1"), Value::Int(1 << 64));
        assert_eq!(
            ev("-18446744073709551615"),
            Value::Int(-18446744073709551615)
        );
        // Equal as numbers even when spelled differently.
        assert!(is("a == b", &[("a", s("007")), ("b", s("7"))]));
        assert!(is("a == 7", &[("a", s(" 7 "))]));
        assert!(is("a == 1.5", &[("a", s("1.5"))]));
        assert_eq!(
            eval_with("a * 2", &[("a", s("1.5"))]),
            Ok(Value::Float(3.0))
        );
        assert_eq!(
            eval_with("a + b", &[("a", s("2")), ("b", s("3"))]),
            Ok(Value::Int(5))
        );
        // Words that Rust's float parser would accept stay strings.
        assert!(!is("a > 1", &[("a", s("inf"))]));
        assert!(!is("a == 0", &[("a", s("nan"))]));
        // Non-numeric strings compare as text; against a number they are incomparable.
        assert!(is("a < b", &[("a", s("abc")), ("b", s("abd"))]));
        assert!(!is("a < 3", &[("a", s("abc"))]));
        assert!(!is("a >= 3", &[("a", s("abc"))]));
        assert!(!is("a == 3", &[("a", s("abc"))]));
        assert!(is("a != 3", &[("a", s("abc"))]));
        assert!(is("a == true", &[("a", s("true"))]));
        assert!(!is("1 == true", &[]));
        assert!(is("1 != true", &[]));
    }

    #[test]
    fn null_handling() {
        assert_eq!(ev("missing"), Value::Null);
        assert_eq!(ev("missing + 1"), Value::Null);
        assert_eq!(ev("-missing"), Value::Null);
        assert_eq!(ev("missing * 2 / 0"), Value::Null);
        assert_eq!(ev("len(missing)"), Value::Null);
        for src in [
            "missing == 1",
            "missing != 1",
            "missing < 1",
            "missing >= 1",
            "missing == missing",
            "missing == ''",
            "missing in [1, 2]",
            "missing not in [1, 2]",
            "missing =~ '.*'",
            "missing !~ 'x'",
            "missing",
            "null",
            "null < 1",
        ] {
            assert!(!is(src, &[]), "{src}");
        }
        assert!(is("missing == null", &[]));
        assert!(is("null == missing", &[]));
        assert!(!is("missing != null", &[]));
        assert!(is("present != null", &[("present", s(""))]));
        assert!(!is("present == null", &[("present", s("x"))]));
        assert!(is("missing in [1, null]", &[]));
        assert!(is("not missing", &[]));
        assert!(is("not exists(missing)", &[]));
        assert!(is("exists(x)", &[("x", s(""))]));
        assert!(!is("exists(x)", &[("x", Value::Null)]));
    }

    #[test]
    fn truthiness() {
        for v in [
            Value::Null,
            Value::Bool(false),
            Value::Int(0),
            Value::Float(0.0),
            s(""),
        ] {
            assert!(!v.is_truthy(), "{v:?}");
            assert!(!is("x", &[("x", v.clone())]));
        }
        for v in [Value::Bool(true), Value::Int(-1), Value::Float(0.5), s("0")] {
            assert!(v.is_truthy(), "{v:?}");
        }
    }

    #[test]
    fn regex_match() {
        let m = [("msg", s("Connection TIMED OUT at 12:00"))];
        assert!(is("msg =~ '(?i)timed out'", &m));
        assert!(!is("msg =~ 'timed out'", &m));
        assert!(is("lower(msg) =~ 'timed out'", &m));
        assert!(is(r#"msg =~ "\d+:\d+""#, &m));
        assert!(is(r#"msg =~ "\\d+:\\d+""#, &m));
        assert!(is(r#"msg !~ "^refused""#, &m));
        assert!(is("n =~ '^4'", &[("n", Value::Int(42))]));
        assert!(is(r#"q =~ "\"x\"""#, &[("q", s("say \"x\""))]));
    }

    #[test]
    fn functions() {
        assert_eq!(ev("len('héllo')"), Value::Int(5));
        assert_eq!(ev("len(12345)"), Value::Int(5));
        assert_eq!(ev("lower('AbC')"), s("abc"));
        assert_eq!(ev("int('42')"), Value::Int(42));
        assert_eq!(ev("int(' -42 ')"), Value::Int(-42));
        assert_eq!(ev("int('3.9')"), Value::Int(3));
        assert_eq!(ev("int(3.9)"), Value::Int(3));
        assert_eq!(ev("int(-3.9)"), Value::Int(-3));
        assert_eq!(ev("int('0x1f')"), Value::Int(31));
        assert_eq!(ev("int('abc')"), Value::Null);
        assert_eq!(ev("int(true)"), Value::Int(1));
        assert_eq!(ev("int(7)"), Value::Int(7));
        assert_eq!(
            eval_with("int('1e300')", &[]),
            Err(EvalError::Overflow { op: "int" })
        );
        assert_eq!(
            eval_with("int(1e300)", &[]),
            Err(EvalError::Overflow { op: "int" })
        );
        assert!(is(
            "len(fields.msg) > 3 and exists(fields.msg)",
            &[("fields.msg", s("hello"))]
        ));
        assert!(is("len(a) + 1 == 3", &[("a", s("xy"))]));
        assert!(is("int(a) % 2 == 1", &[("a", s("7"))]));
    }

    #[test]
    fn eval_errors() {
        assert_eq!(
            eval_with("1 / 0", &[]),
            Err(EvalError::DivisionByZero { op: "/" })
        );
        assert_eq!(
            eval_with("1 % 0", &[]),
            Err(EvalError::DivisionByZero { op: "%" })
        );
        assert_eq!(
            eval_with("1.5 / a", &[("a", s("0"))]),
            Err(EvalError::DivisionByZero { op: "/" })
        );
        assert_eq!(
            eval_with("170141183460469231731687303715884105727 + 1", &[]),
            Err(EvalError::Overflow { op: "+" })
        );
        assert_eq!(
            eval_with("-170141183460469231731687303715884105727 - 2", &[]),
            Err(EvalError::Overflow { op: "-" })
        );
        assert_eq!(
            eval_with("1e300 * 1e300", &[]),
            Err(EvalError::Overflow { op: "*" })
        );
        // `+` joins text when a side is not a number: `file + ":" + line`.
        assert_eq!(
            eval_with("a + ':' + b", &[("a", s("lib.rs")), ("b", s("30"))]),
            Ok(s("lib.rs:30"))
        );
        let e = eval_with("a - 1", &[("a", s("abc"))]).unwrap_err();
        assert_eq!(
            e,
            EvalError::Type {
                op: "-",
                operands: "string \"abc\" and int 1".to_string()
            }
        );
        assert_eq!(
            e.to_string(),
            "cannot apply `-` to string \"abc\" and int 1"
        );
        assert!(matches!(
            eval_with("-'x'", &[]),
            Err(EvalError::Type { op: "-", .. })
        ));
        assert!(matches!(
            eval_with("true * 2", &[]),
            Err(EvalError::Type { op: "*", .. })
        ));
        // Errors make `matches` false, and short-circuiting skips them.
        assert!(!is("1 / 0 > 0", &[]));
        assert!(is("true or 1 / 0", &[]));
        assert!(!is("false and 1 / 0", &[]));
    }

    #[test]
    fn identifiers_are_listed_once_in_order() {
        let e = parse("b > a and exists(c) or len(fields.x) in [a, d] and b =~ 'x'").unwrap();
        assert_eq!(e.identifiers(), ["b", "a", "c", "fields.x", "d"]);
        assert!(parse("1 + 2").unwrap().identifiers().is_empty());
    }

    #[test]
    fn api_surface() {
        let e: Expr = "  a > 1 ".parse().unwrap();
        assert_eq!(e.source(), "  a > 1 ");
        assert_eq!(e.to_string(), "  a > 1 ");
        let e2 = e.clone();
        assert!(e2.matches(&|_| Some(Value::from(2i64))));
        assert!(format!("{e:?}").contains("a > 1"));
        assert!(Expr::try_from("a >".to_string()).is_err());
        #[derive(serde::Deserialize)]
        struct Rule {
            when: Expr,
        }
        let r: Rule = toml::from_str("when = 'x == \"y\"'").unwrap();
        assert!(r.when.matches(&|_| Some(Value::from("y"))));
        let bad = toml::from_str::<Rule>("when = 'x =='").err().unwrap();
        assert!(
            bad.to_string().contains("expected an operand after `==`"),
            "{bad}"
        );
    }

    #[test]
    fn whitespace_anywhere() {
        assert!(is("\n\t a\t>\n1 ", &[("a", s("2"))]));
        assert!(is("len ( a ) == 2", &[("a", s("ab"))]));
        assert!(is("a in[ 1 ,2 ]", &[("a", s("2"))]));
        assert!(is("a>1&&a<3", &[("a", s("2"))]));
        assert!(is("not(a<1)", &[("a", s("2"))]));
    }

    #[test]
    fn identifiers_may_look_like_keywords_or_functions() {
        assert!(is("order > 1", &[("order", s("2"))]));
        assert!(is(
            "android and notice and index",
            &[("android", s("1")), ("notice", s("1")), ("index", s("1"))]
        ));
        assert!(is("len > 1", &[("len", s("2"))]));
        assert!(is("true.x == 1", &[("true.x", s("1"))]));
    }

    #[test]
    fn display_matches_the_documented_shape() {
        let e = err("requested > ");
        assert_eq!(e.column, 12);
        assert_eq!(e.message, "expected an operand after `>`");
        assert_eq!(e.source, "requested > ");
        assert_eq!(
            e.to_string(),
            "expected an operand after `>` at column 12\n  requested > \n             ^"
        );
        // The caret follows tabs and lands on the right line of multi-line input.
        let e = err("a ==\n\t1 +");
        assert_eq!(e.column, 10);
        assert_eq!(e.to_string().lines().last(), Some("  \t   ^"));
        assert_eq!(e.to_string().lines().nth(1), Some("  \t1 +"));
    }

    #[test]
    fn error_kinds_and_columns() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "expected an expression, found end of input"),
            ("   ", 4, "expected an expression, found end of input"),
            (") a", 1, "expected an expression, found `)`"),
            ("a ==", 5, "expected an operand after `==`"),
            ("a == )", 6, "expected an operand after `==`, found `)`"),
            ("a and", 6, "expected an operand after `and`"),
            ("a || or", 6, "expected an operand after `||`, found `or`"),
            ("not", 4, "expected an operand after `not`"),
            ("1 + * 2", 5, "expected an operand after `+`, found `*`"),
            ("-", 2, "expected an operand after `-`"),
            ("(a > 1", 7, "expected a closing `)` for the `(` at column 1"),
            ("x + (a b)", 8, "expected a closing `)` for the `(` at column 5, found `b`"),
            ("()", 2, "expected an operand after `(`, found `)`"),
            ("a > 1)", 6, "unmatched closing `)`"),
            ("requested >> newest", 11, "unknown operator `>>`"),
            ("a === b", 3, "unknown operator `===`"),
            ("a = b", 3, "unknown operator `=`; use `==` to compare"),
            ("a & b", 3, "unknown operator `&`; use `and` or `&&`"),
            ("a b", 3, "unexpected `b` after a complete expression; expected an operator or the end"),
            ("3abc", 2, "unexpected `abc` after a complete expression; expected an operator or the end"),
            ("a < b < c", 7, "comparisons do not chain: unexpected `<` after a comparison; combine them with `and`"),
            ("a in [1] == true", 10, "comparisons do not chain: unexpected `==` after a comparison; combine them with `and`"),
            ("foo(x)", 1, "unknown function `foo`; known functions are len, lower, int, exists"),
            ("a and Len(x)", 7, "unknown function `Len`; known functions are len, lower, int, exists"),
            ("len()", 5, "`len` takes exactly one argument"),
            ("len(a, b)", 6, "`len` takes exactly one argument"),
            ("len(a", 6, "expected a closing `)` for the call to `len`"),
            ("exists(1)", 8, "`exists` takes an identifier, e.g. `exists(cid)`, found `1`"),
            ("exists(a + 1)", 10, "expected a closing `)` for the call to `exists`, found `+`"),
            ("msg =~ \"abc", 8, "unterminated string literal (missing closing \")"),
            ("a == 'it\\'s", 6, "unterminated string literal (missing closing ')"),
            ("msg =~ 'a' + 'b'", 12, "unknown operator `+`"),
            ("msg =~ x", 8, "expected a string literal (the regex) after `=~`, found `x`"),
            ("msg =~ ", 7, "expected a string literal (the regex) after `=~`"),
            ("msg =~ \"(abc\"", 8, "invalid regex \"(abc\": unclosed group"),
            ("x in 1", 6, "expected `[` to start the list after `in`, found `1`"),
            ("x in [1, 2", 11, "expected `,` or `]` in the list"),
            ("x in [1 2]", 9, "expected `,` or `]` in the list, found `2`"),
            ("x in [1, , 2]", 10, "expected a list element or `]`, found `,`"),
            ("999999999999999999999999999999999999999999 > 1", 1, "integer literal out of range (at most 170141183460469231731687303715884105727)"),
            ("1e999", 1, "float literal out of range"),
            ("é > 1", 1, "expected an expression, found `é`"),
            ("\"é\" >", 6, "expected an operand after `>`"),
        ];
        for &(src, column, message) in cases {
            let e = err(src);
            assert_eq!((e.column, e.message.as_str()), (column, message), "{src:?}");
            assert_eq!(e.source, src);
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let ok = format!("{}1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(ev(&ok), Value::Int(1));
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        let e = err(&deep);
        assert_eq!(e.column, MAX_DEPTH + 2);
        assert!(e.message.starts_with("expression nested too deeply"), "{e}");
        for src in [
            "-".repeat(100_000) + "1",
            "!".repeat(100_000) + "a",
            "not ".repeat(100_000) + "a",
            "len(".repeat(100_000),
            "[".repeat(100_000),
            "a in [".repeat(100_000),
            "(".repeat(100_000),
        ] {
            assert!(parse(&src).is_err());
        }
        // Long flat chains are fine: they do not nest.
        let long = vec!["a"; 100_000].join(" + ");
        assert_eq!(eval_with(&long, &[("a", s("1"))]), Ok(Value::Int(100_000)));
        let long = vec!["a"; 100_000].join(" or ");
        assert!(!is(&long, &[]));
    }

    // --- property tests -----------------------------------------------------

    const TOKENS: &[&str] = &[
        "a",
        "b",
        "fields.x",
        "missing",
        "1",
        "0",
        "-",
        "+",
        "*",
        "/",
        "%",
        "(",
        ")",
        "[",
        "]",
        ",",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "=~",
        "!~",
        "in",
        "not",
        "!",
        "and",
        "or",
        "&&",
        "||",
        "true",
        "false",
        "null",
        "len(",
        "lower(",
        "int(",
        "exists(",
        "\"9\"",
        "'x'",
        "\"(\"",
        "\"",
        "'",
        "\\",
        "1.5",
        "1e5",
        "18446744073709551615",
        "é",
        "\t",
        "=",
    ];

    fn arb_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i128>().prop_map(Value::Int),
            any::<f64>().prop_map(Value::Float),
            any::<u64>().prop_map(|n| Value::Str(n.to_string())),
            any::<i128>().prop_map(|n| Value::Str(n.to_string())),
            ".{0,8}".prop_map(Value::Str),
            Just(Value::Str("0".into())),
            Just(Value::Str("1e308".into())),
        ]
    }

    fn arb_expr() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            Just(i128::MAX.to_string()),
            (0.0f64..1e300).prop_map(|f| format!("{f:?}")),
            prop::sample::select(vec![
                "a",
                "b",
                "c",
                "fields.x",
                "missing",
                "null",
                "true",
                "false",
                "\"9\"",
                "'abc'",
                "\"\"",
                "0",
                "exists(a)",
            ])
            .prop_map(str::to_string),
        ];
        leaf.prop_recursive(6, 64, 4, |inner| {
            let ops = vec![
                "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "&&", "||",
            ];
            prop_oneof![
                (inner.clone(), prop::sample::select(ops), inner.clone())
                    .prop_map(|(a, op, b)| format!("({a}) {op} ({b})")),
                inner.clone().prop_map(|a| format!("not ({a})")),
                inner.clone().prop_map(|a| format!("-({a})")),
                (
                    prop::sample::select(vec!["len", "lower", "int"]),
                    inner.clone()
                )
                    .prop_map(|(f, a)| format!("{f}({a})")),
                inner.clone().prop_map(|a| format!("({a}) =~ \"^[0-9]+$\"")),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| format!("({a}) in [({b}), 1, 'x']")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) not in [({b})]")),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parse_never_panics_on_arbitrary_text(src in ".{0,80}") {
            if let Err(e) = parse(&src) {
                prop_assert!(e.column >= 1 && e.column <= src.chars().count() + 1);
                let _ = e.to_string();
            }
        }

        #[test]
        fn parse_never_panics_on_token_soup(
            toks in prop::collection::vec(prop::sample::select(TOKENS), 0..24),
            spaced in any::<bool>(),
        ) {
            let src = toks.join(if spaced { " " } else { "" });
            match parse(&src) {
                Ok(e) => {
                    let _ = e.eval(&|_| Some(Value::Str("1".into())));
                    let _ = e.identifiers();
                }
                Err(e) => {
                    prop_assert!(e.column >= 1 && e.column <= src.chars().count() + 1);
                    let _ = e.to_string();
                }
            }
        }

        #[test]
        fn eval_never_panics(
            src in arb_expr(),
            a in arb_value(), b in arb_value(), c in arb_value(), x in arb_value(),
        ) {
            let e = parse(&src).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            let map = vars(&[("a", a), ("b", b), ("c", c), ("fields.x", x)]);
            let lookup = |n: &str| map.get(n).cloned();
            let _ = e.eval(&lookup);
            let _ = e.matches(&lookup);
            let ids = e.identifiers();
            prop_assert!(ids.iter().all(|id| src.contains(id.as_str())));
        }
    }
}
