"""The spec digest depends on values only; git commit and dirtiness come from the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_tree import CATEGORIES, TARGET_GROUPS, course_text, make_tree, write

from moodle_sync.specs.load import load_specs

#: the digest of the tree in spec_tree.make_tree; it must be the same on every machine and run.
#: It changes only when the spec values or the canonical form change (then update it on purpose).
GOLDEN_DIGEST = "4b78a41402757993ca3ef234ef9916dcc58f4e93ddc9421f8c047bb0de02d302"


def digest(root: Path) -> str:
    return load_specs(root).digest


def test_the_digest_is_a_sha256_hex(spec_root: Path) -> None:
    value = digest(spec_root)
    assert len(value) == 64 and int(value, 16) >= 0


def test_the_digest_is_the_same_on_every_machine(spec_root: Path) -> None:
    assert digest(spec_root) == GOLDEN_DIGEST


def test_the_digest_is_the_same_in_another_process_with_another_hash_seed(spec_root: Path) -> None:
    code = "import sys; from moodle_sync.specs.load import load_specs; print(load_specs(sys.argv[1]).digest)"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, str(spec_root)], capture_output=True, text=True,
                         env=env, check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == digest(spec_root)


def test_order_whitespace_comments_quoting_and_file_names_do_not_change_the_digest(
        spec_root: Path, tmp_path: Path) -> None:
    before = digest(spec_root)
    other = make_tree(tmp_path / "elsewhere")
    # categories and target groups in another order, keys in another order, comments and blank lines
    write(other, "categories.yaml", "# ny ordning\n\n- name: Barn\n  parent: rot\n  key: barn\n\n"
                                    "- key: rot   # rotkategorin\n  name: 'Rot'\n")
    groups = TARGET_GROUPS.split("- key: bvc")
    write(other, "target_groups.yaml", "- key: bvc" + groups[1] + groups[0])
    # the course: keys reversed, flow style, quoted values, another file name and a sub-folder
    (other / "courses" / "a.yaml").unlink()
    lines = course_text().splitlines()
    head, groups_lines = lines[:-3], lines[-3:]
    text = "\n".join(reversed(head)) + "\ntarget_groups: [socialsekreterare,   bvc]\n"
    text = text.replace("title: Kurs A", 'title: "Kurs A"  # titeln').replace("start_date: 2024-09-01",
                                                                               "start_date: '2024-09-01'")
    write(other, "courses/nck/kurs-a.yml", "---\n# kurs A\n" + text)
    assert groups_lines[0] == "target_groups:"
    assert digest(other) == before


@pytest.mark.parametrize(("field", "value"), [
    ("version", "1.2.4"), ("title", "Kurs A2"), ("summary", "<p>Om kurs A.</p>"), ("sections", "5"),
    ("start_date", "2024-09-02"), ("category", "rot"), ("delivery", "blended"), ("shortname", "KA2"),
])
def test_any_changed_value_changes_the_digest(spec_root: Path, field: str, value: str) -> None:
    before = digest(spec_root)
    write(spec_root, "courses/a.yaml", course_text({field: value}))
    assert digest(spec_root) != before


def test_a_written_default_does_not_change_the_digest_but_another_value_does(spec_root: Path) -> None:
    before = digest(spec_root)
    write(spec_root, "courses/a.yaml", course_text(extra="format: topics\nfee_sek: 0\n"))
    assert digest(spec_root) == before
    write(spec_root, "courses/a.yaml", course_text(extra="fee_sek: 1\n"))
    assert digest(spec_root) != before


def test_changes_outside_courses_change_the_digest(spec_root: Path) -> None:
    before = digest(spec_root)
    write(spec_root, "categories.yaml", CATEGORIES.replace("name: Barn", "name: Barnen"))
    after_category = digest(spec_root)
    write(spec_root, "target_groups.yaml", TARGET_GROUPS.replace("sector: socialtjanst", "sector: bada"))
    assert len({before, after_category, digest(spec_root)}) == 3


def test_target_group_order_in_a_course_is_a_value(spec_root: Path) -> None:
    before = digest(spec_root)
    write(spec_root, "courses/a.yaml", course_text(groups=("bvc", "socialsekreterare")))
    assert digest(spec_root) != before


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(title=st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs"],
                                           exclude_characters="\u115f\u1160\u3164\uffa0"),  # invisible letters
                     min_size=1, max_size=30).filter(lambda t: t.strip() and t.strip() != "Kurs A"))
def test_any_other_title_gives_another_digest(spec_root: Path, title: str) -> None:
    write(spec_root, "courses/a.yaml", course_text())
    before = digest(spec_root)
    write(spec_root, "courses/a.yaml", course_text(title=f'"{title}"'))
    assert load_specs(spec_root).courses["kurs-a"].title == unicodedata.normalize("NFC", title.strip())
    assert digest(spec_root) != before


# --- git -----------------------------------------------------------------------------------------

def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
                           "-c", "commit.gpgsign=false", *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_outside_git_there_is_no_commit(spec_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(spec_root.parent))
    specs = load_specs(spec_root)
    assert specs.git_commit is None
    assert specs.git_dirty is None


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_in_git_the_commit_is_head_and_changes_make_it_dirty(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    root = make_tree(repo / "course_specs")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "specs")
    head = git(repo, "rev-parse", "HEAD")

    specs = load_specs(root)
    assert (specs.git_commit, specs.git_dirty) == (head, False)

    write(repo, "README.md", "utanför spec-trädet\n")
    assert load_specs(root).git_dirty is False

    write(root, "courses/a.yaml", course_text(title="Kurs A, ändrad"))
    specs = load_specs(root)
    assert (specs.git_commit, specs.git_dirty) == (head, True)

    git(repo, "checkout", "-q", "--", ".")
    write(root, "courses/b.yaml", course_text(key="kurs-b", shortname="KB"))
    assert load_specs(root).git_dirty is True
