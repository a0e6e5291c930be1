//! Constant folding: every subexpression that reads no column, no parameter, no outer
//! row and not the clock is evaluated once, here. One that fails (say `1/0`) is left as
//! it is, so the error is reported when (and only if) the statement runs, as for any
//! other row.

use crate::exec::eval::eval_constant;
use crate::expr::Expr;
use crate::plan::Node;

/// The pass: folds the constants of every expression of the tree.
pub(super) fn fold_constants(node: Node, _cx: &super::context::Context<'_>) -> Node {
    node.map_all_exprs(&mut fold)
}

/// Folds the constant subexpressions of `expr`.
pub fn fold(expr: Expr) -> Expr {
    expr.transform(&mut |e| {
        if !matches!(e, Expr::Literal(_))
            && e.is_constant()
            && !e.has_params()
            && !e.reads_outer()
            && let Ok(value) = eval_constant(&e)
        {
            return Expr::Literal(value);
        }
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::BinaryOp;
    use crate::value::Value;

    #[test]
    fn constants_fold_but_errors_wait_for_execution() {
        let sum = Expr::binary(
            BinaryOp::Add,
            Expr::Literal(Value::Int(1)),
            Expr::Literal(Value::Int(2)),
        );
        assert_eq!(fold(sum), Expr::Literal(Value::Int(3)));
        let div = Expr::binary(
            BinaryOp::Div,
            Expr::Literal(Value::Int(1)),
            Expr::Literal(Value::Int(0)),
        );
        assert_eq!(fold(div.clone()), div);
    }
}
