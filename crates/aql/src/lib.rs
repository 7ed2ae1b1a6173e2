//! AQL, ArangoDB's query language. What is built so far: the lexer, the expression parser
//! (with ArangoDB's precedence and parse errors), and an evaluator with a part of the
//! function library, enough for computed values (`RETURN <expression>` over `@doc`). The
//! AQL issue grows this into statements, plans, the optimizer and the executor.
//!
//! **API Boundary:** no storage and no HTTP here; callers pass values in and get values out.

pub mod ast;
pub mod compiled;
pub mod eval;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod print;
pub mod query;
pub mod value;

use errors::{err, ArangoError, ERROR_BAD_PARAMETER, ERROR_QUERY_FUNCTION_ARGUMENT_NUMBER_MISMATCH,
    ERROR_QUERY_FUNCTION_NAME_UNKNOWN};

use ast::Expr;

/// Parses `RETURN <expression>`, the form of a computed value, and checks it uses only the
/// bind parameters in `allowed_binds`, no variables, and known functions with the right
/// number of arguments.
pub fn parse_return_expression(text: &str, allowed_binds: &[&str]) -> Result<Expr, ArangoError> {
    let mut p = parser::Parser::new(text)?;
    p.expect_keyword("RETURN")?;
    let e = p.expression()?;
    p.expect_end()?;
    check(&e, allowed_binds)?;
    Ok(e)
}

/// Functions that read the database: not for computed values.
const DATABASE_FUNCTIONS: &[&str] = &["DOCUMENT", "COLLECTIONS", "COLLECTION_COUNT", "CURRENT_DATABASE", "CURRENT_USER"];

fn check(e: &Expr, binds: &[&str]) -> Result<(), ArangoError> {
    match e {
        Expr::BindCollection(_) | Expr::Subquery(_) => return Err(err!(ERROR_BAD_PARAMETER, "collections and subqueries are not allowed here")),
        Expr::Var(name) if name == ast::CURRENT => {}
        Expr::Var(name) => return Err(err!(ERROR_BAD_PARAMETER, "unknown variable '{name}': only bind parameters {binds:?} may be used")),
        Expr::Bind(name) if !binds.contains(&name.as_str()) => {
            return Err(err!(ERROR_BAD_PARAMETER, "bind parameter '@{name}' is not available here; use {binds:?}"))
        }
        Expr::Call(name, _) if DATABASE_FUNCTIONS.contains(&name.as_str()) => {
            return Err(err!(ERROR_BAD_PARAMETER, "function '{name}()' reads the database and cannot be used here"));
        }
        Expr::Call(name, args) => check_call(name, args.len())?,
        _ => {}
    }
    e.children().into_iter().try_for_each(|c| check(c, binds))
}

/// A call of a known function with an accepted number of arguments, or ArangoDB's parse-time
/// error (1540 unknown function, 1541 wrong number of arguments).
pub fn check_call(name: &str, args: usize) -> Result<(), ArangoError> {
    let (min, max) = functions::arity(name).ok_or_else(|| err!(ERROR_QUERY_FUNCTION_NAME_UNKNOWN, "usage of unknown function '{name}()'"))?;
    if args < min || args > max {
        return Err(err!(
            ERROR_QUERY_FUNCTION_ARGUMENT_NUMBER_MISMATCH,
            "invalid number of arguments for function '{name}()', expected number of arguments: minimum: {min}, maximum: {}",
            if max == usize::MAX { "unlimited".to_string() } else { max.to_string() }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod function_tests;
