//! The name of an unnamed select-list column, as PostgreSQL names it.
//!
//! PostgreSQL's `FigureColname` (parser/parse_target.c) names an output column without
//! `AS` from the expression's syntax, and clients rely on those names (`row["count"]`).
//! It works on the expression as written, so this works on sqlparser's AST, before
//! binding, and follows the same rules:
//!
//! - a column reference is its column's name (`t.a` → `a`);
//! - a function or aggregate call is the function's name (`count(*)` → `count`,
//!   `sum(x)` → `sum`), including the special forms (`trim(...)` → `btrim`,
//!   `substring(x FROM 1)` → `substring`, `extract(...)` → `extract`, `CURRENT_DATE`
//!   → `current_date`);
//! - a cast is its operand's name if the operand has a strong one, else the type's
//!   internal name (`a::int` → `a`, `1::int` → `int4`, `DATE '2024-01-01'` → `date`);
//! - `CASE` is `case`, `ARRAY[...]` is `array`, `EXISTS (...)` is `exists`, a scalar
//!   subquery is its own first column's name;
//! - anything else — literals (booleans included, as of PostgreSQL 15), operators,
//!   comparisons, `IS NULL`, `LIKE` — is `?column?`.
//!
//! PostgreSQL ranks a name's *strength*: a cast keeps a strong name of its operand
//! (a column, a function) but replaces a weak one (`CASE`, an array, another type
//! name) with its type name. [`Strength`] carries that.

use sqlparser::ast::{DataType, Expr, SelectItem, SetExpr};

use super::ident;

/// The name PostgreSQL gives an output column that is not a plain column reference.
const ANONYMOUS_COLUMN: &str = "?column?";

/// How strongly a name was derived (PostgreSQL's return value of `FigureColnameInternal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// A name for lack of a better one (`case`, `array`, a type name): a cast
    /// around it is named after its type instead.
    Weak,
    /// A column's or a function's name: a cast around it keeps it.
    Strong,
}

/// The output name of the unnamed select-list expression `expr`.
pub(super) fn column_name(expr: &Expr) -> String {
    figure(expr).map_or_else(|| ANONYMOUS_COLUMN.to_string(), |(name, _)| name)
}

fn strong(name: impl Into<String>) -> Option<(String, Strength)> {
    Some((name.into(), Strength::Strong))
}

fn weak(name: impl Into<String>) -> Option<(String, Strength)> {
    Some((name.into(), Strength::Weak))
}

fn figure(expr: &Expr) -> Option<(String, Strength)> {
    match expr {
        Expr::Identifier(id) => strong(ident(id)),
        Expr::CompoundIdentifier(ids) => ids.last().and_then(|id| strong(ident(id))),
        Expr::Nested(inner) | Expr::Collate { expr: inner, .. } => figure(inner),
        Expr::Cast {
            expr, data_type, ..
        } => match figure(expr) {
            Some((name, Strength::Strong)) => strong(name),
            _ => weak(type_name(data_type)),
        },
        Expr::TypedString(typed) => weak(type_name(&typed.data_type)),
        Expr::Interval(_) => weak("interval"),
        Expr::Function(function) => function
            .name
            .0
            .last()
            .and_then(|part| part.as_ident())
            .and_then(|id| strong(ident(id))),
        Expr::Trim { .. } => strong("btrim"),
        // `substr(x, 1)` parses as the same node, marked as the shorthand.
        Expr::Substring {
            shorthand: true, ..
        } => strong("substr"),
        Expr::Substring { .. } => strong("substring"),
        Expr::Extract { .. } => strong("extract"),
        Expr::Position { .. } => strong("position"),
        Expr::Overlay { .. } => strong("overlay"),
        Expr::Ceil { .. } => strong("ceil"),
        Expr::Floor { .. } => strong("floor"),
        Expr::AtTimeZone { .. } => strong("timezone"),
        Expr::Case { .. } => weak("case"),
        Expr::Array(_) => weak("array"),
        Expr::Exists { .. } => strong("exists"),
        Expr::Subquery(query) => strong(first_column_name(&query.body)),
        _ => None,
    }
}

/// The name of a query's first output column, as a scalar subquery is named.
fn first_column_name(body: &SetExpr) -> String {
    match body {
        SetExpr::Select(select) => match select.projection.first() {
            Some(SelectItem::UnnamedExpr(expr)) => column_name(expr),
            Some(SelectItem::ExprWithAlias { alias, .. }) => ident(alias),
            _ => ANONYMOUS_COLUMN.to_string(),
        },
        SetExpr::Query(query) => first_column_name(&query.body),
        SetExpr::SetOperation { left, .. } => first_column_name(left),
        SetExpr::Values(_) => "column1".to_string(),
        _ => ANONYMOUS_COLUMN.to_string(),
    }
}

/// PostgreSQL's internal name of a type, which names a cast's column (`int4`, not
/// `integer`).
fn type_name(data_type: &DataType) -> String {
    let name = match data_type {
        DataType::Int(_) | DataType::Integer(_) | DataType::Int4(_) => "int4",
        DataType::BigInt(_) | DataType::Int8(_) => "int8",
        DataType::SmallInt(_) | DataType::Int2(_) => "int2",
        DataType::Real | DataType::Float4 => "float4",
        DataType::Double(_) | DataType::DoublePrecision | DataType::Float8 => "float8",
        DataType::Boolean | DataType::Bool => "bool",
        DataType::Text => "text",
        DataType::Varchar(_) | DataType::CharacterVarying(_) => "varchar",
        DataType::Char(_) | DataType::Character(_) => "bpchar",
        DataType::Date => "date",
        DataType::Timestamp(..) => "timestamp",
        DataType::Interval { .. } => "interval",
        DataType::Numeric(_) | DataType::Decimal(_) | DataType::Dec(_) => "numeric",
        DataType::Custom(name, _) => {
            return name
                .0
                .last()
                .and_then(|part| part.as_ident())
                .map_or_else(|| ANONYMOUS_COLUMN.to_string(), ident);
        }
        other => return other.to_string().to_lowercase(),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use sqlparser::ast;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    use super::*;

    /// The select list's names, as PostgreSQL 15 gave them for the same query.
    fn names(sql: &str) -> Vec<String> {
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .expect("parses")
            .remove(0);
        let ast::Statement::Query(query) = statement else {
            panic!("not a query")
        };
        let SetExpr::Select(select) = *query.body else {
            panic!("not a select")
        };
        select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::UnnamedExpr(expr) => column_name(expr),
                _ => panic!("unexpected item"),
            })
            .collect()
    }

    // Each expected list is PostgreSQL 15.x's output for the same SELECT (psql, unaligned).
    #[test]
    fn aggregates_and_functions_are_named_after_the_function() {
        assert_eq!(
            names(
                "SELECT count(*), count(a), sum(a), avg(a), min(a), max(b), count(DISTINCT a), \
                 coalesce(a, 0), nullif(a, 0), greatest(a, 1), least(a, 1), lower(b), \
                 length(b), substr(b, 1), substring(b from 1 for 2), trim(b), btrim(b), \
                 abs(a), round(1.5), now(), CURRENT_DATE, CURRENT_TIMESTAMP, \
                 extract(year from ts), position('a' in b), ceil(1.5), floor(1.5)"
            ),
            [
                "count",
                "count",
                "sum",
                "avg",
                "min",
                "max",
                "count",
                "coalesce",
                "nullif",
                "greatest",
                "least",
                "lower",
                "length",
                "substr",
                "substring",
                "btrim",
                "btrim",
                "abs",
                "round",
                "now",
                "current_date",
                "current_timestamp",
                "extract",
                "position",
                "ceil",
                "floor"
            ]
        );
    }

    #[test]
    fn columns_casts_and_literals_follow_postgresql() {
        assert_eq!(
            names(
                "SELECT a, t.a, (a), a::int, CAST(a AS bigint), a::text, a + 1, -a, 1, 'x', \
                 NULL, true, false, 1::int, 1::bigint, 'x'::text, 'x'::varchar(3), \
                 1.5::float8, 1.5::real, 1::smallint, '2020-01-01'::date, DATE '2020-01-01', \
                 TIMESTAMP '2020-01-01', INTERVAL '1 day', 1.5, a::text::int, cast(b as int)"
            ),
            [
                "a",
                "a",
                "a",
                "a",
                "a",
                "a",
                "?column?",
                "?column?",
                "?column?",
                "?column?",
                "?column?",
                "?column?",
                "?column?",
                "int4",
                "int8",
                "text",
                "varchar",
                "float8",
                "float4",
                "int2",
                "date",
                "date",
                "timestamp",
                "interval",
                "?column?",
                "a",
                "b"
            ]
        );
    }

    #[test]
    fn case_subqueries_and_predicates_follow_postgresql() {
        assert_eq!(
            names(
                "SELECT CASE WHEN a > 0 THEN 1 END, CASE a WHEN 1 THEN 2 END, b || 'x', \
                 a IS NULL, a BETWEEN 1 AND 2, a IN (1), b LIKE 'x', b ILIKE 'x', NOT true, \
                 EXISTS (SELECT 1), (SELECT 1), (SELECT a FROM t LIMIT 1), \
                 (SELECT a AS z FROM t LIMIT 1), ARRAY[1], a = 1, (CASE WHEN true THEN 1 END)::int"
            ),
            [
                "case", "case", "?column?", "?column?", "?column?", "?column?", "?column?",
                "?column?", "?column?", "exists", "?column?", "a", "z", "array", "?column?",
                "int4"
            ]
        );
    }
}
