/**
 * The Python half of the train.py guard, shipped in the bundle as text and run with the runner's
 * python3 (`python3 -I -c SCRIPT CONFIG`, source on stdin). It only parses (`ast.parse` executes
 * nothing) and prints one JSON object: `{"findings": [{"line": N, "message": "..."}]}`.
 *
 * What it flags, with the protocol's harness module (`prepare`), evaluation function
 * (`evaluate_bpb`) and guarded summary keys (`val_bpb`):
 * - no call of the evaluation function at all;
 * - any rebinding of a harness name (`evaluate_bpb = …`, `def evaluate_bpb`, `prepare.x = …`,
 *   `setattr(prepare, …)`, `sys.modules`, `globals()[…]`, builtins) and dynamic code (`exec`, `eval`);
 * - a guarded key printed with anything but the evaluation's result (a literal, another variable,
 *   a variable reassigned after the evaluation), or built in a way the guard cannot trace.
 */
export const TRAIN_PY_GUARD_SCRIPT = String.raw`
import ast, json, re, sys

cfg = json.loads(sys.argv[1])
MODULE = cfg["module"]
FUNCTION = cfg["function"]
KEYS = cfg["keys"]
findings = []

def flag(node, message):
    findings.append({"line": getattr(node, "lineno", 0) or 0, "message": message})

def done():
    seen = set()
    unique = []
    for f in sorted(findings, key=lambda f: f["line"]):
        k = (f["line"], f["message"])
        if k not in seen:
            seen.add(k)
            unique.append(f)
    print(json.dumps({"findings": unique}))
    sys.exit(0)

try:
    tree = ast.parse(sys.stdin.buffer.read(), filename=cfg.get("file", "train.py"))
except SyntaxError as e:
    flag(e, "cannot be parsed (%s), so the guard cannot vouch for its metric" % e.msg)
    done()

module_names = set()    # local names of the harness module (import prepare [as p])
harness_names = set()   # names imported from the harness (from prepare import x [as y])
eval_names = set()      # local names of the evaluation function
for node in ast.walk(tree):
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.name == MODULE:
                module_names.add(a.asname or a.name)
    elif isinstance(node, ast.ImportFrom):
        for a in node.names:
            local = a.asname or a.name
            if node.module == MODULE and node.level == 0:
                if a.name == "*":
                    eval_names.add(FUNCTION)
                    harness_names.add(FUNCTION)
                    continue
                harness_names.add(local)
                if a.name == FUNCTION:
                    eval_names.add(local)
            elif a.name == FUNCTION or local == FUNCTION:
                flag(node, "imports %s from %s instead of the harness module %s" % (FUNCTION, node.module or ".", MODULE))
protected = module_names | harness_names | eval_names | {FUNCTION}

def is_module_ref(expr):
    return isinstance(expr, ast.Name) and expr.id in module_names

def is_eval_call(expr):
    if not isinstance(expr, ast.Call):
        return False
    f = expr.func
    if isinstance(f, ast.Name) and f.id in eval_names:
        return True
    return isinstance(f, ast.Attribute) and f.attr == FUNCTION and is_module_ref(f.value)

def is_eval_value(expr):
    """The evaluation's call itself, or float() of it."""
    if is_eval_call(expr):
        return True
    return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "float"
            and len(expr.args) == 1 and not expr.keywords and is_eval_call(expr.args[0]))

def names_in_target(target):
    if isinstance(target, ast.Name):
        yield target
    elif isinstance(target, (ast.Tuple, ast.List)):
        for e in target.elts:
            yield from names_in_target(e)
    elif isinstance(target, ast.Starred):
        yield from names_in_target(target.value)

def dotted(expr):
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None

# Every binding of every name: (name, node that binds, value expression or None).
bindings = {}
def bind(name_node, owner, value):
    bindings.setdefault(name_node.id, []).append((owner, value))

def check_target(target, owner, value):
    if isinstance(value, ast.Name) and value.id in module_names | eval_names:
        flag(owner, "aliases the harness name %s, which hides later changes to it" % value.id)
    for n in names_in_target(target):
        bind(n, owner, value)
        if n.id in protected:
            flag(owner, "rebinds the harness name %s" % n.id)
    for t in ([target] if not isinstance(target, (ast.Tuple, ast.List)) else target.elts):
        if isinstance(t, ast.Attribute):
            d = dotted(t) or ""
            root = d.split(".")[0]
            if root in module_names or root in harness_names:
                flag(owner, "assigns to %s, a name of the harness" % d)
            elif root in ("builtins", "__builtins__", "sys") or t.attr in ("__code__", "__globals__", "__dict__"):
                flag(owner, "assigns to %s, which can change how the metric is computed or printed" % (d or t.attr))
        elif isinstance(t, ast.Subscript):
            d = dotted(t.value) or ""
            if d in ("sys.modules", "__builtins__") or (isinstance(t.value, ast.Call) and dotted(t.value.func) in ("globals", "vars", "locals")):
                flag(owner, "writes into %s, which can replace the harness" % (d or dotted(t.value.func)))

for node in ast.walk(tree):
    if isinstance(node, ast.Assign):
        for t in node.targets:
            check_target(t, node, node.value)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        check_target(node.target, node, None if isinstance(node, ast.AugAssign) else node.value)
    elif isinstance(node, ast.NamedExpr):
        check_target(node.target, node, node.value)
    elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        check_target(node.target, node if not isinstance(node, ast.comprehension) else node.iter, None)
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            if item.optional_vars is not None:
                check_target(item.optional_vars, node, None)
    elif isinstance(node, ast.Delete):
        for t in node.targets:
            check_target(t, node, None)
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        bindings.setdefault(node.name, []).append((node, None))
        if node.name in protected:
            flag(node, "defines %s, a name of the harness" % node.name)
    elif isinstance(node, ast.ExceptHandler) and node.name:
        bindings.setdefault(node.name, []).append((node, None))
        if node.name in protected:
            flag(node, "rebinds the harness name %s" % node.name)
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        for name in node.names:
            if name in protected:
                flag(node, "declares the harness name %s global, to rebind it" % name)
    elif isinstance(node, ast.Import):
        for a in node.names:
            local = a.asname or a.name.split(".")[0]
            if local in protected and a.name != MODULE:
                flag(node, "rebinds the harness name %s with an import" % local)
            if a.name == "importlib" or a.name.startswith("importlib."):
                flag(node, "imports importlib, which can reload or replace the harness")
    elif isinstance(node, ast.ImportFrom) and node.module != MODULE:
        for a in node.names:
            local = a.asname or a.name
            if local in protected and a.name != FUNCTION:
                flag(node, "rebinds the harness name %s with an import" % local)
        if node.module and node.module.split(".")[0] == "importlib":
            flag(node, "imports from importlib, which can reload or replace the harness")
    elif isinstance(node, ast.Call):
        name = dotted(node.func)
        first = node.args[0] if node.args else None
        if name in ("setattr", "delattr") and isinstance(first, ast.Name) and first.id in protected:
            flag(node, "calls %s on %s, a name of the harness" % (name, first.id))
        elif name in ("exec", "eval", "compile", "__import__"):
            flag(node, "runs dynamic code with %s(), which the guard cannot read" % name)
    elif isinstance(node, ast.Attribute) and dotted(node) == "sys.modules":
        flag(node, "reaches into sys.modules, which can replace the harness")

eval_calls = [n for n in ast.walk(tree) if is_eval_call(n)]
if not eval_calls:
    flag(tree.body[0] if tree.body else tree,
         "never calls %s.%s, so the metric it prints is not the harness's" % (MODULE, FUNCTION))

def eval_result(expr):
    """True when expr is the evaluation's result: the call, or a name bound only from it."""
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "float" and len(expr.args) == 1:
        if is_eval_value(expr):
            return True
        expr = expr.args[0]
    if is_eval_value(expr):
        return True
    if isinstance(expr, ast.Name):
        bound = bindings.get(expr.id, [])
        return bool(bound) and all(v is not None and is_eval_value(v) for _, v in bound)
    return False

KEY_AT_LINE_START = [(k, re.compile(r"(?:^|\n)[ \t]*" + re.escape(k) + r"[ \t]*:")) for k in KEYS]
handled = set()

def keys_in(text, first):
    """Guarded keys at a line start in text; with first False the text does not start a line."""
    found = []
    for key, pattern in KEY_AT_LINE_START:
        for m in pattern.finditer(text):
            if m.start() == 0 and not first and not text[:1] == "\n":
                continue
            found.append((key, m.end()))
    return sorted(found, key=lambda x: x[1])

def literal_value(rest):
    return bool(re.match(r"[ \t]*[^\s\n]", rest.split("\n")[0]))

def require(key, value, node):
    if value is None:
        flag(node, "prints %s without a value the guard can trace to %s" % (key, FUNCTION))
    elif not eval_result(value):
        what = ("the variable %s" % value.id) if isinstance(value, ast.Name) else "an expression"
        extra = ""
        if isinstance(value, ast.Name) and len(bindings.get(value.id, [])) > 1:
            extra = " (it is assigned more than once)"
        flag(node, "prints %s from %s%s, not from the result of %s" % (key, what, extra, FUNCTION))

def check_joined(js, node):
    pending = None
    first = True
    for part in js.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            handled.add(id(part))
            for key, end in keys_in(part.value, first):
                if pending:
                    require(pending, None, node)
                pending = key
                if literal_value(part.value[end:]):
                    flag(node, "prints %s with a literal value" % key)
                    pending = None
        elif isinstance(part, ast.FormattedValue):
            if pending:
                require(pending, part.value, node)
                pending = None
        first = False
    if pending:
        require(pending, None, node)

def check_format_string(const, values, node):
    """'key: %s' % values and 'key: {}'.format(*values): the n-th placeholder after the key."""
    text = const.value
    handled.add(id(const))
    for key, end in keys_in(text, True):
        if literal_value(re.sub(r"%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|\{[^{}]*\}", "", text[end:], count=1)):
            flag(node, "prints %s with a literal value" % key)
            continue
        index = len(re.findall(r"%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|\{[^{}]*\}", text[:end]))
        require(key, values[index] if index < len(values) else None, node)

def check_printed(arg, rest, node):
    """One printed argument; rest are the arguments after it (print("val_bpb:", x))."""
    if isinstance(arg, ast.JoinedStr):
        check_joined(arg, node)
    elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        handled.add(id(arg))
        for key, end in keys_in(arg.value, True):
            if literal_value(arg.value[end:]):
                flag(node, "prints %s with a literal value" % key)
            else:
                require(key, rest[0] if rest else None, node)
    elif isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mod) and isinstance(arg.left, ast.Constant) and isinstance(arg.left.value, str):
        right = arg.right
        check_format_string(arg.left, list(right.elts) if isinstance(right, ast.Tuple) else [right], node)
    elif (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format"
          and isinstance(arg.func.value, ast.Constant) and isinstance(arg.func.value.value, str)):
        check_format_string(arg.func.value, list(arg.args), node)
    elif isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Add):
        left, right = arg.left, arg.right
        if isinstance(left, ast.Constant) and isinstance(left.value, str):
            value = right
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("str", "repr", "format") and value.args:
                value = value.args[0]
            check_printed(left, [value], node)
        else:
            check_printed(left, [], node)
            check_printed(right, [], node)

for node in ast.walk(tree):
    if isinstance(node, ast.Call):
        for i, arg in enumerate(node.args):
            check_printed(arg, node.args[i + 1:], node)

docstrings = set()
for node in ast.walk(tree):
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        docstrings.add(id(node.value))
for node in ast.walk(tree):
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in handled and id(node) not in docstrings:
        for key, _ in keys_in(node.value, True):
            flag(node, "builds a %s line in a way the guard cannot trace to %s" % (key, FUNCTION))

done()
`;
