"""Promotions the suite enforces (issue 22, item 2): d2l's #@save provenance, without extraction.

A piece is written inline in the notebook that teaches it, then promoted to gan_utils; the notebook keeps a check
cell that *asserts* its version equals the library's, and later notebooks import the library's. The docstring of
a promoted symbol says where it was taught, in the exact form "Taught in notebook NN.". Read from the sources
(ast on gan_utils and on the py:percent notebooks, no torch), this file checks that

(a) every symbol tagged "Taught in notebook NN" is named (as a name, an attribute or an import) in a code cell of
    notebooks/NN_*.py that asserts: an `assert` statement, or a call to assert_same_step / check_function, which
    assert inside;
(b) no notebook cell compares something with a library version through torch.allclose / torch.equal without
    asserting (printing the comparison is not a check: a mismatch would pass unnoticed);
(c) every public class and function of gan_utils/models/*.py, gan_utils/nn/*.py and gan_utils/losses.py is either
    tagged or in LIBRARY_ONLY below, so that a new promoted piece cannot silently skip the rule.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gan_utils"
NOTEBOOKS = ROOT / "notebooks"
TAUGHT = re.compile(r"Taught in notebook (\d\d)\.")
ASSERTING_CALLS = {"assert_same_step", "check_function"}  # helpers that raise on a mismatch
COMPARISONS = {"allclose", "equal"}                       # torch.allclose(...), torch.equal(...)

# Public pieces of models/, nn/ and losses.py that no notebook writes inline and checks against the library: the
# notebooks import them (or use them inside a checked training step) without teaching them line by line. A new
# entry here is a decision; a piece a notebook writes inline and compares belongs tagged instead.
LIBRARY_ONLY = {
    # Plumbing and argument checks, never the subject of a lesson.
    "models.acgan.check_labels",
    "models.infogan.QOutput",
    "models.gan3d.GateResult",
    "models.vanilla.mlp",
    "models.pacgan.init_normal",
    "models.pix2pix.unet_depth",
    "nn.init.weights_init",
    "nn.translation.norm_layer",
    "nn.translation.use_bias",
    "nn.translation.receptive_field",       # 09 measures the receptive field with it (and by hand in exercises)
    "nn.translation.patch_output_size",
    "nn.blocks3d.volume_stages",
    "nn.blocks3d.up3d",
    "nn.blocks3d.down3d",
    "nn.normalization.vbn_reference_pass",
    # Conditioning helpers the notebooks import (02's exercise checks the student's label maps against
    # concat_condition, which the lesson does not write inline).
    "nn.conditioning.concat_condition",
    "nn.conditioning.Condition",
    "nn.conditioning.LabelEmbedding",
    # Sampling and latent-code helpers the notebooks import.
    "models.infogan.sample_latent",
    "models.infogan.latent_input",
    # 05 (improved techniques, semi-supervised learning): the library's versions, described in prose and used.
    "models.improved.ImprovedDiscriminator",
    "models.improved.HistoricalAverage",
    "models.improved.replace_bn_with_vbn",
    "models.improved.GaussianNoise",
    "models.improved.SSLDiscriminator",
    "models.improved.SSLGenerator",
    "models.improved.draw_labels",
    "models.improved.ssl_ema",
    "models.improved.ssl_step",
    "models.improved.supervised_step",
    "models.improved.ssl_accuracy",
    "losses.feature_matching",
    # 07 (3D-GAN): the gated step, the 3D-VAE-GAN's encoder and losses, imported.
    "models.gan3d.pooled_features",
    "models.gan3d.d_accuracy",
    "models.gan3d.d_step_gated",
    "models.gan3d.ImageEncoder",
    "models.gan3d.reparameterize",
    "models.gan3d.kl_loss",
    "models.gan3d.recon_loss",
    # 08 (PacGAN): the generators and the DCGAN-sized packed D, imported.
    "models.pacgan.Maxout",
    "models.pacgan.PacMLPGenerator",
    "models.pacgan.PacDCGANDiscriminator",
    # 09-12 (translation): parts checked only through the asserted training step, or imported.
    "losses.l1_loss",
    "losses.g_loss_pix2pix",
    "nn.translation.ResnetGenerator",
    "models.cyclegan.ImagePool",
    "models.cyclegan.linear_decay",
    "models.pix2pixhd.instance_means",
    "models.pix2pixhd.generator_input",
    "models.pix2pixhd.GlobalGenerator",
    "models.pix2pixhd.downsample",
    "models.pix2pixhd.InstanceEncoder",
    "models.pix2pixhd.multiscale_gan_loss",
    "models.pix2pixhd.gan_feat_loss",
    "models.pix2pixhd.VGGLoss",
    "models.pix2pixhd.load_vgg_loss",
    "models.pix2pixhd.cluster_instance_features",
    "models.vid2vid.foreground_composite",
    "models.vid2vid.flow_loss",
    "models.vid2vid.warp_loss",
    "models.vid2vid.mask_loss",
    "models.vid2vid.SequentialGenerator",
    "models.vid2vid.generate_window",
    "models.vid2vid.flow_terms",
    # 13 (BigGAN): the networks and the pieces of the step, checked through the asserted training step.
    "models.biggan.sn",
    "models.biggan.ortho_init_",
    "models.biggan.GBlock",
    "models.biggan.Generator",
    "models.biggan.DBlock",
    "models.biggan.Discriminator",
    "models.biggan.d_hinge_loss",
    "models.biggan.g_hinge_loss",
    "models.biggan.ortho_reg",
    "models.biggan.make_ema",
    "models.biggan.ema_update",
    "models.biggan.standing_stats",
    "models.biggan.d_step",
    "models.biggan.g_step",
}


def library_files() -> list[Path]:
    return sorted((PACKAGE / "models").glob("*.py")) + sorted((PACKAGE / "nn").glob("*.py")) + [PACKAGE / "losses.py"]


def public_symbols() -> Iterator[tuple[str, str, str]]:
    """(dotted name relative to gan_utils, bare name, docstring) of every public top-level class and function."""
    for path in library_files():
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
                yield f"{module}.{node.name}", node.name, ast.get_docstring(node) or ""


def code_cells(source: str) -> list[tuple[int, str]]:
    """(first line, source) of the code cells of a py:percent notebook: split on `# %%` lines, markdown dropped."""
    cells, lines, start, is_code = [], [], 1, True
    for i, line in enumerate(source.splitlines() + ["# %%"], 1):
        if line.startswith("# %%"):
            if is_code and any(s.strip() for s in lines):
                cells.append((start, "\n".join(lines)))
            lines, start, is_code = [], i, "[markdown]" not in line
        else:
            lines.append(line)
    return cells


def names_in(tree: ast.AST) -> set[str]:
    """Every name a piece of code mentions: names, attributes (gan3d.VoxelGenerator) and imported names."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            out.update((a.asname or a.name).split(".")[-1] for a in node.names)
            out.update(a.name.split(".")[-1] for a in node.names)
    return out


def asserts(tree: ast.AST) -> bool:
    """Whether a cell asserts: an assert statement, or a call to a helper that asserts inside."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            f = node.func
            called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if called in ASSERTING_CALLS:
                return True
    return False


def unasserted_comparisons(source: str, library: set[str]) -> list[int]:
    """First lines of the code cells that call torch.allclose / torch.equal on a library version but never assert.

    A comparison is with a library version when its arguments mention a public gan_utils piece (VoxelGenerator,
    losses.d_loss_bce) or a name ending in _lib (the notebooks' convention: G_lib, D_lib, mbd_lib).
    """
    bad = []
    for line, src in code_cells(source):
        tree = ast.parse(src)
        if asserts(tree):
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in COMPARISONS
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"):
                mentioned = set().union(*(names_in(a) for a in node.args))
                if mentioned & library or any(n.endswith("_lib") for n in mentioned):
                    bad.append(line)
                    break
    return bad


def notebook(nn_: str) -> Path:
    found = sorted(NOTEBOOKS.glob(f"{nn_}_*.py"))
    assert len(found) == 1, f"no single notebooks/{nn_}_*.py"
    return found[0]


TAGGED = [(dotted, name, m.group(1)) for dotted, name, doc in public_symbols() if (m := TAUGHT.search(doc))]


def test_some_symbols_are_tagged():
    assert len(TAGGED) >= 30, TAGGED


@pytest.mark.parametrize(("dotted", "name", "nn_"), TAGGED, ids=[t[0] for t in TAGGED])
def test_tagged_symbol_has_an_asserting_check_cell(dotted, name, nn_):
    path = notebook(nn_)
    for _, src in code_cells(path.read_text()):
        tree = ast.parse(src)
        if name in names_in(tree) and asserts(tree):
            return
    pytest.fail(f"{dotted} says 'Taught in notebook {nn_}.', but no code cell of {path.name} that asserts names "
                f"{name}: add a check cell asserting the notebook's version equals the library's")


def test_taught_lines_have_the_exact_form():
    for dotted, _, doc in public_symbols():
        for line in doc.splitlines():
            if "aught in notebook" in line:
                assert TAUGHT.fullmatch(line.strip()), f"{dotted}: {line.strip()!r} is not 'Taught in notebook NN.'"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")), ids=lambda p: p.name)
def test_no_unasserted_library_comparison(path):
    library = {name for _, name, _ in public_symbols()}
    bad = unasserted_comparisons(path.read_text(), library)
    assert not bad, (f"{path.name}: the code cells starting at lines {bad} compare with a library version "
                     "(torch.allclose / torch.equal) but never assert it")


def test_every_public_piece_is_tagged_or_library_only():
    symbols = {dotted: doc for dotted, _, doc in public_symbols()}
    untagged = sorted(d for d, doc in symbols.items() if not TAUGHT.search(doc) and d not in LIBRARY_ONLY)
    assert not untagged, (f"{untagged}: neither 'Taught in notebook NN.' in the docstring nor in LIBRARY_ONLY of "
                          "tests/test_promotions.py")
    both = sorted(d for d in LIBRARY_ONLY if d in symbols and TAUGHT.search(symbols[d]))
    assert not both, f"{both}: tagged and in LIBRARY_ONLY"
    stale = sorted(LIBRARY_ONLY - set(symbols))
    assert not stale, f"{stale}: in LIBRARY_ONLY but no such public piece"


# The rule on fake notebooks: 07's check cell as of commit 7db183e printed the comparison instead of
# asserting it, so a G or D that drifted from gan_utils' would have printed False and the notebook gone on.
OLD_07 = '''# %% [markdown]
# Loaded with our weights, they compute the same function:

# %%
G_ours, G_lib = G3D(z_dim, 32, 8).eval(), VoxelGenerator(z_dim, 32, ngf=8).eval()
z = torch.randn(3, z_dim)
print("G equal:", torch.allclose(G_ours(z), G_lib(z), atol=1e-6),
      "| D equal:", torch.allclose(D_ours(G_ours(z)), D_lib(G_ours(z)), atol=1e-5))

# %%
assert True
'''


def test_self_test_printed_comparison_fails():
    assert unasserted_comparisons(OLD_07, {"VoxelGenerator"}) == [4]


def test_self_test_asserted_comparison_passes():
    check = 'assert torch.allclose(G_ours(z), G_lib(z), atol=1e-6)\n'
    fixed = OLD_07.replace('print("G equal:",', check + 'print("G equal:",')
    assert unasserted_comparisons(fixed, {"VoxelGenerator"}) == []


def test_self_test_unrelated_comparison_passes():
    src = "# %%\nsame = all(torch.equal(a, b) for a, b in zip(xs, ys))\nprint(same)\n"
    assert unasserted_comparisons(src, {"VoxelGenerator"}) == []


def test_self_test_check_cell_lookup():
    tree = ast.parse(code_cells(OLD_07)[0][1])
    assert "VoxelGenerator" in names_in(tree) and not asserts(tree)
    tree = ast.parse("from gan_utils.teaching import check_function\ncheck_function(f, g, cases)")
    assert asserts(tree)
