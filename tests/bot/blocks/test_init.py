from __future__ import annotations

import bot.blocks


def test_public_api_is_sorted_and_importable() -> None:
    assert bot.blocks.__all__ == sorted(bot.blocks.__all__)
    for name in bot.blocks.__all__:
        assert getattr(bot.blocks, name) is not None
