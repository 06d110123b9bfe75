import pytest

from soudan.normalize import MAX_CHARS, has_words, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("０３－６１６２－１１１１", "03-6162-1111"),
        ("03ー6162ー1111", "03-6162-1111"),
        ("０９０‐１２３４—５６７８", "090-1234-5678"),
        ("ｼﾗﾅｲﾊﾞﾝｺﾞｳ", "シラナイバンゴウ"),
        ("ＮＴＴファイナンス", "nttファイナンス"),
        ("助けて！！！", "助けて!"),
        ("ほんまに？？？", "ほんまに?"),
        ("えーーーーん", "えーん"),
        ("あああああああ", "ああ"),
        ("  知らない\u3000番号  ", "知らない 番号"),
        ("電話\x00が\x1bきた", "電話 が きた"),
        ("ゼロ幅\u200bスペース", "ゼロ幅 スペース"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_long_vowel_in_words_is_kept():
    assert normalize("ドコモのサポートセンター") == "ドコモのサポートセンター"


def test_idempotent():
    samples = ["２時間後に電話が使えなくなります！！", "ｶﾀｶﾅ", "ＡＢＣ　ｄｅｆ"]
    for s in samples:
        assert normalize(normalize(s)) == normalize(s)


def test_length_is_capped():
    assert len(normalize("知らない番号から電話" * 2000)) == MAX_CHARS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("😭😭😭", False),
        ("！？", False),
        ("", False),
        ("\x00\x01", False),
        ("🙏お願い", True),
        ("110", True),
        ("ok", True),
    ],
)
def test_has_words(text, expected):
    assert has_words(text) is expected
