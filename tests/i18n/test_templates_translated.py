"""Every user-visible string of a public template goes through the translation machinery.

Each template is read with Django's own lexer: text outside `{% translate %}` and
`{% blocktranslate %}…{% endblocktranslate %}` (and outside comments) is parsed as HTML, and
any text node or visible attribute (`aria-label`, `title`, `alt`, `placeholder`) with a letter
in it is an untranslated string.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# The public pages: the error pages and base at the top, and each audience-facing folder.
PUBLIC = (
    "*.html",
    "snippets/*.html",
    "registrations/**/*.html",
    "tournaments/**/*.html",
    "participants/**/*.html",
    "results/**/*.html",
    "emails/*",
    "opendata/embed.html",
)
# Text that reads the same in every language: the product's name.
ALLOWED = {"Lineup"}
VISIBLE_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder"}
HOLE = "\x00"  # where a tag or variable stood; never part of a word


def public_templates() -> list[str]:
    found = {p for pattern in PUBLIC for p in TEMPLATES.glob(pattern) if p.is_file()}
    return sorted(str(p.relative_to(TEMPLATES)) for p in found)


def untranslated_text(source: str) -> str:
    """The template's text with every tag, variable, comment and translated block as a hole."""
    parts, depth, in_comment = [], 0, False
    for token in Lexer(source).tokenize():
        words = token.contents.split()
        name = words[0] if token.token_type == TokenType.BLOCK and words else ""
        # A comment, or a block that fills in a class name (`{% block body_class %}`): no words.
        if name == "comment" or (name == "block" and words[-1].endswith("_class")):
            in_comment = True
        elif name == "endcomment" or (name == "endblock" and in_comment):
            in_comment = False
        elif name in ("blocktranslate", "blocktrans"):
            depth += 1
        elif name in ("endblocktranslate", "endblocktrans"):
            depth -= 1
        if token.token_type == TokenType.TEXT and not depth and not in_comment:
            parts.append(token.contents)
        else:
            parts.append(HOLE)
    return "".join(parts)


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in VISIBLE_ATTRIBUTES and value]

    def handle_data(self, data):
        self.found.append(data)


def visible_strings(text: str) -> list[str]:
    parser = _Visible()
    parser.feed(text)
    parser.close()
    out = []
    for chunk in parser.found:
        for piece in chunk.split(HOLE):
            piece = " ".join(piece.split())
            words = re.sub(rf"\b({'|'.join(ALLOWED)})\b", "", piece)
            if re.search(r"[^\W\d_]", words):  # a letter: punctuation and symbols pass
                out.append(piece)
    return out


@pytest.mark.parametrize("name", public_templates())
def test_every_visible_string_is_translated(name):
    text = untranslated_text((TEMPLATES / name).read_text())
    assert visible_strings(text) == [], f"{name} has text outside {{% translate %}}"


def test_the_checker_sees_plain_text_and_visible_attributes():
    # The negative control: what the test above would let through if the checker were blind.
    source = (
        '{% load i18n %}<p>{% translate "Fine" %} Not fine</p>'
        '<nav aria-label="Pages">{{ page }}</nav>'
        "{% blocktranslate %}Also fine{% endblocktranslate %}"
        "{% comment %}Notes for us{% endcomment %}<a href=\"{% url 'x' %}\">·</a>"
        "{% block body_class %}wide-page{% endblock %}{% block title %}Title{% endblock %}"
    )
    assert visible_strings(untranslated_text(source)) == ["Not fine", "Pages", "Title"]
