"""The worked solution of the exercise for one config and batch — an answer key — in the exercise's
order and notation (docs/exercise.md): (a) one SGD iteration, (b) each module's input and output,
(c) the four gradients as chain-rule products, (d) the three local Jacobians in words and numbers.
Markdown with $…$ math (GitHub, Jupyter) or a complete LaTeX document. Text only: nothing printed."""

from __future__ import annotations

import json
from typing import Literal

import numpy as np

from ..core.activations import Activation, Array
from ..core.explain import Explanation
from ..core.jacobians import as_matrix
from ..core.model import Params

Format = Literal["markdown", "latex"]


def matrix(a: Array, digits: int) -> str:
    """An array as a LaTeX bmatrix: a vector as a column (the exercise's convention), a matrix as it is."""
    a = np.asarray(a, dtype=np.float64)
    rows = a.reshape(-1, 1) if a.ndim == 1 else a
    body = r" \\ ".join(" & ".join(number(v, digits) for v in row) for row in rows)
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def number(v: float, digits: int) -> str:
    """A number with ``digits`` after the point, −0 shown as 0, and an exponent where it is tiny or huge."""
    if v != 0 and (abs(v) < 10.0 ** -digits or abs(v) >= 1e6):
        mantissa, exponent = f"{v:.{digits}e}".split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    text = f"{v:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def symbol(fn: Activation, arg: str) -> str:
    """f or g applied to ``arg``, as the exercise writes it: 5\\,(z_1)^+, \\tanh(z_1), \\sigma(z_3)."""
    scale = "" if fn.scale == 1 else f"{fn.scale:g}\\,"
    forms = {"identity": arg, "relu": f"{scale}({arg})^+",
             "leaky_relu": rf"\mathrm{{LeakyReLU}}_{{{fn.slope:g}}}({arg})", "tanh": rf"\tanh({arg})",
             "sigmoid": rf"\sigma({arg})", "softplus": rf"\mathrm{{softplus}}({arg})",
             "softmax": rf"\mathrm{{softmax}}({arg})"}
    return forms[fn.name]


def jacobian_words(fn: Activation, size: str, out: str, inp: str, name: str) -> str:
    """A Jacobian stated as the exercise states it, e.g. an m×m diagonal matrix with M_ii = 5 where z1_i > 0."""
    c = "1" if fn.scale == 1 else f"{fn.scale:g}"
    o, i = f"({out})_i", f"({inp})_i"
    return {
        "identity": rf"the ${size}$ identity matrix $I$",
        "relu": rf"a ${size}$ diagonal matrix with ${name}_{{ii}} = {c}$ where ${i} > 0$, else $0$ "
                "(the derivative at 0 is 0, as in PyTorch)",
        "leaky_relu": rf"a ${size}$ diagonal matrix with ${name}_{{ii}} = 1$ where ${i} > 0$, else ${fn.slope:g}$",
        "tanh": rf"a ${size}$ diagonal matrix with ${name}_{{ii}} = 1 - {o}^2$",
        "sigmoid": rf"a ${size}$ diagonal matrix with ${name}_{{ii}} = {o}(1 - {o})$",
        "softplus": rf"a ${size}$ diagonal matrix with ${name}_{{ii}} = \sigma({i})$",
        "softmax": rf"the full ${size}$ matrix $\mathrm{{diag}}({out}) - {out}\,{out}^\top$",
    }[fn.name]


def loss_words(e: Explanation, K: int) -> tuple[str, str]:
    """(ℓ as a formula, ∂ℓ/∂ŷ in words) for the configured loss and reduction, one sample."""
    loss = e.net.loss
    n = loss.divisor(e.batch, K)
    over = "" if n == 1 else rf"\frac{{1}}{{{n}}}"
    samples = r"\sum_{b=1}^{B}" if e.batch > 1 else ""
    y, h = (r"y_{b,i}", r"\hat y_{b,i}") if e.batch > 1 else ("y_i", r"\hat y_i")
    outputs = rf"\sum_{{i=1}}^{{{K}}}"
    formula = {"mse": rf"{over}{samples}{outputs} ({h} - {y})^2",
               "bce": rf"{over}{samples}{outputs} -[{y} \log {h} + (1 - {y})\log(1 - {h})]",
               "cross_entropy": rf"{over}{samples}{outputs} -{y} \log {h}"}[loss.name]
    two = "2" if n == 1 else rf"\frac{{2}}{{{n}}}"
    grad = {"mse": rf"the $1 \times {K}$ row $V = {two}(\hat y - y)^\top$",
            "bce": rf"the $1 \times {K}$ row with $V_i = {over}\left(\frac{{1 - y_i}}{{1 - \hat y_i}} - "
                   r"\frac{y_i}{\hat y_i}\right)$",
            "cross_entropy": rf"the $1 \times {K}$ row with $V_i = -{over}\frac{{y_i}}{{\hat y_i}}$"}[loss.name]
    return formula, grad


def prose(text: str, fmt: Format) -> str:
    """Text from a config (a name, a path) safe in the format's prose: LaTeX's special characters escaped."""
    if fmt == "markdown":
        return text.replace("$", r"\$")
    special = {"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$",
               "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(special.get(ch, ch) for ch in text)


def answer_key(e: Explanation, name: str, fmt: Format, digits: int, lr: float) -> str:
    """The key for the batch of ``e`` (one section per sample where values are per sample), with
    η = ``lr`` for the update; numbers with ``digits`` after the point."""
    _, m, K = e.params.shape
    p, c, b, j = e.params, e.cache, e.back, e.jac
    f, g = e.net.f, e.net.g
    def M(a: Array) -> str:  # noqa: N802 (a matrix, as the math writes it)
        return matrix(a, digits)

    def display(t: str) -> str:
        return display_math(t, fmt)

    out: list[str] = []

    def section(title: str, level: int = 2) -> None:
        out.append(heading(title, fmt, level))

    loss_formula, dloss_words = loss_words(e, K)
    section(f"Answer key: {prose(name, fmt)}", 1)
    out += [network_sentence(e, fmt), display(parameters(p, digits))]

    section("(a) One iteration of SGD")
    steps = [
        r"Forward: $\hat y = \mathrm{model}(x)$, through the modules of (b).",
        rf"Loss: $\ell = {loss_formula}$" + (f" over the batch's $B = {e.batch}$ samples" if e.batch > 1 else "")
        + rf"; here $\ell = {number(e.loss, digits)}$.",
        r"Zero the gradients: $\partial\ell/\partial\theta \leftarrow 0$ for every parameter $\theta$.",
        r"Backward: $\partial\ell/\partial\theta$ by the chain rule, in (c).",
        rf"Update: $\theta \leftarrow \theta - \eta\,\partial\ell/\partial\theta$ with $\eta = {lr:g}$:",
    ]
    out += [f"{k}. {s}" for k, s in enumerate(steps, start=1)] if fmt == "markdown" else [
        r"\begin{enumerate}", *(rf"\item {s}" for s in steps), r"\end{enumerate}"]
    after = {k: a - lr * d for (k, a), (_, d) in zip(p.items(), b.grads.items(), strict=True)}
    sup = {"W1": "W^{(1)}", "b1": "b^{(1)}", "W2": "W^{(2)}", "b2": "b^{(2)}"}
    out.append(display(r",\ ".join(rf"{sup[k]} \leftarrow {M(v)}" for k, v in after.items())))

    y_hat = r"\hat y"

    def label(i: int) -> str:
        return f" (sample {i + 1} of {e.batch})" if e.batch > 1 else ""

    for i in range(e.batch):
        section(f"(b) The modules, input and output{label(i)}")
        out.append(display(rf"x = {M(c.x[i])},\ y = {M(e.y[i])}"))
        for module, inp, formula, value in (
                (r"\mathrm{Linear}_1", "x", r"z_1 = W^{(1)} x + b^{(1)}", c.z1[i]),
                ("f", "z_1", f"z_2 = {symbol(f, 'z_1')}", c.z2[i]),
                (r"\mathrm{Linear}_2", "z_2", r"z_3 = W^{(2)} z_2 + b^{(2)}", c.z3[i]),
                ("g", "z_3", rf"\hat y = {symbol(g, 'z_3')}", c.y_hat[i])):
            out.append(display(rf"{module}:\ {inp} \mapsto {formula} = {M(value)}"))

    section("(c) The four gradients")
    total = r"\sum_{\text{samples}}" if e.batch > 1 else ""
    chain = r"\frac{\partial \ell}{\partial \hat y}\frac{\partial \hat y}{\partial z_3}"
    via = rf"{chain}\,W^{{(2)}}\frac{{\partial z_2}}{{\partial z_1}}"
    for sym, rule, value in (("b^{(2)}", rf"{total}\left({chain}\right)^\top", b.grads.b2),
                             ("W^{(2)}", rf"{total}\left({chain}\right)^\top z_2^\top", b.grads.W2),
                             ("b^{(1)}", rf"{total}\left({via}\right)^\top", b.grads.b1),
                             ("W^{(1)}", rf"{total}\left({via}\right)^\top x^\top", b.grads.W1)):
        out.append(display(rf"\frac{{\partial \ell}}{{\partial {sym}}} = {rule} = {M(value)}"))

    for i in range(e.batch):
        section(f"(d) The local Jacobians{label(i)}")
        hidden, outputs = rf"{m} \times {m}", rf"{K} \times {K}"
        out.append(rf"$\partial z_2/\partial z_1$ is {jacobian_words(f, hidden, 'z_2', 'z_1', 'M')}:")
        out.append(display(rf"\frac{{\partial z_2}}{{\partial z_1}} = {M(as_matrix(j.dz2_dz1[i]))}"))
        out.append(rf"$\partial \hat y/\partial z_3$ is "
                   rf"{jacobian_words(g, outputs, y_hat, 'z_3', 'P')}:")
        out.append(display(rf"\frac{{\partial \hat y}}{{\partial z_3}} = {M(as_matrix(j.dyhat_dz3[i]))}"))
        out.append(rf"$\partial \ell/\partial \hat y$ is {dloss_words}:")
        out.append(display(rf"\frac{{\partial \ell}}{{\partial \hat y}} = {M(j.dloss_dyhat[i][None, :])}"))

    return document(out, fmt)


def display_math(t: str, fmt: Format) -> str:
    """A formula on a line of its own: $$…$$ in Markdown, \\[ … \\] in LaTeX."""
    return f"$${t}$$" if fmt == "markdown" else rf"\[ {t} \]"


def heading(title: str, fmt: Format, level: int = 2) -> str:
    """A heading: # … in Markdown, \\section*{…} (\\subsection* one level down) in LaTeX."""
    return f"{'#' * level} {title}" if fmt == "markdown" else rf"\{'sub' * (level - 2)}section*{{{title}}}"


def document(parts: list[str], fmt: Format) -> str:
    """Paragraphs as one text: Markdown as it is, LaTeX as a complete document."""
    text = "\n\n".join(parts) + "\n"
    if fmt == "latex":
        text = ("\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage[margin=2cm]{geometry}\n"
                "\\begin{document}\n\n" + text + "\n\\end{document}\n")
    return text


def network_sentence(e: Explanation, fmt: Format) -> str:
    """The network, its f and g, the loss and the batch, in one sentence."""
    n, m, K = e.params.shape
    return (f"The network ${n} \\to {m} \\to {K}$ with $f(z) = {symbol(e.net.f, 'z')}$, "
            f"$g(z) = {symbol(e.net.g, 'z')}$ and the {prose(e.net.loss.name, fmt)} loss "
            f"({e.net.loss.reduction} reduction), on a batch of {e.batch} sample(s). Vectors are columns; "
            "weights are (out, in).")


def parameters(p: Params, digits: int) -> str:
    """W⁽¹⁾, b⁽¹⁾, W⁽²⁾, b⁽²⁾ as one line of math."""
    return (rf"W^{{(1)}} = {matrix(p.W1, digits)},\ b^{{(1)}} = {matrix(p.b1, digits)},\ "
            rf"W^{{(2)}} = {matrix(p.W2, digits)},\ b^{{(2)}} = {matrix(p.b2, digits)}")


def sheet(e: Explanation, student: str, name: str, fmt: Format, digits: int) -> str:
    """A student's exercise: their numbers (with ``digits`` after the point) and the questions, and
    how to hand the answers in (the items and shapes `twonet grade` reads). No answer is in it."""
    n, m, K = e.params.shape
    B = e.batch

    def display(t: str) -> str:
        return display_math(t, fmt)

    def section(title: str, level: int = 2) -> str:
        return heading(title, fmt, level)

    loss_formula, _ = loss_words(e, K)
    out = [section(f"Backpropagation by hand: {prose(name, fmt)}, student {prose(student, fmt)}", 1),
           network_sentence(e, fmt), rf"The loss is $\ell = {loss_formula}$"
           + (f" over the batch's $B = {e.batch}$ samples." if e.batch > 1 else "."),
           display(parameters(e.params, digits))]
    for i in range(B):
        label = f"Sample {i + 1} of {B}: " if B > 1 else ""
        out.append(f"{label}" + display(rf"x = {matrix(e.cache.x[i], digits)},\ y = {matrix(e.y[i], digits)}"))
    def numbers(count: int) -> str:
        return f"one row of {count} per sample ({B} × {count})" if B > 1 else \
            "one number" if count == 1 else f"{count} numbers"

    per, out_per = numbers(m), numbers(K)
    questions = [
        (r"$z_1 = W^{(1)} x + b^{(1)}$", "z1", per),
        (rf"$z_2 = {symbol(e.net.f, 'z_1')}$", "z2", per),
        (r"$z_3 = W^{(2)} z_2 + b^{(2)}$", "z3", out_per),
        (rf"$\hat y = {symbol(e.net.g, 'z_3')}$", "y\\_hat" if fmt == "latex" else "y_hat", out_per),
        (r"the loss $\ell$", "loss", "one number"),
        (r"$\partial\ell/\partial W^{(1)}$", "dW1", f"{m} × {n}"),
        (r"$\partial\ell/\partial b^{(1)}$", "db1", "one number" if m == 1 else f"{m} numbers"),
        (r"$\partial\ell/\partial W^{(2)}$", "dW2", f"{K} × {m}"),
        (r"$\partial\ell/\partial b^{(2)}$", "db2", "one number" if K == 1 else f"{K} numbers"),
    ]
    out.append(section("Questions"))
    lines = [f"{what}, as `{key}`: {shape}" if fmt == "markdown" else rf"{what}, as \texttt{{{key}}}: {shape}"
             for what, key, shape in questions]
    out += [f"{k}. {line}" for k, line in enumerate(lines, start=1)] if fmt == "markdown" else [
        r"\begin{enumerate}", *(rf"\item {line}" for line in lines), r"\end{enumerate}"]
    out.append(section("Handing in"))
    how = ("One file named after your id: a JSON or YAML mapping (or an .npz) with the keys above, a matrix as a "
           "list of rows; or a folder named after your id with one CSV per key (dW1.csv, …). A vector may be a row "
           "or a column. A matrix written transposed must say so in its key (dW1.T). Give at least four "
           "significant digits. In JSON, with your numbers for the zeros:")
    zeros = {"z1": (B, m), "z2": (B, m), "z3": (B, K), "y_hat": (B, K), "loss": (), "dW1": (m, n), "db1": (m,),
             "dW2": (K, m), "db2": (K,)}
    per_sample = {k: s[1:] if B == 1 and k[0] != "d" and k != "loss" else s for k, s in zeros.items()}
    example = "{\n" + ",\n".join(f'  "{k}": {json.dumps(np.zeros(s).tolist())}' for k, s in per_sample.items()) + "\n}"
    out.append(prose(how, fmt))
    out.append(f"```json\n{example}\n```" if fmt == "markdown" else
               rf"\begin{{verbatim}}{chr(10)}{example}{chr(10)}\end{{verbatim}}")
    return document(out, fmt)
