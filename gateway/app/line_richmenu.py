"""Register the rich menu (gateway/line/richmenu.json and .png) as the LINE
channel's default menu.

    make line-richmenu          # = cd gateway && python -m app.line_richmenu

Reads LINE_CHANNEL_ACCESS_TOKEN (and LINE_API_URL / LINE_DATA_API_URL, which
point at LINE unless set) like the gateway. Validates the menu with LINE,
creates it, uploads the image, makes it the default and prints its id.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    RichMenuRequest,
)

from app.core.config import Settings

LINE_DIR = Path(__file__).resolve().parents[1] / "line"
MENU = LINE_DIR / "richmenu.json"
IMAGE = LINE_DIR / "richmenu.png"


def load_menu(path: Path = MENU) -> RichMenuRequest:
    return RichMenuRequest.from_dict(json.loads(path.read_text(encoding="utf-8")))


def register(settings: Settings, menu: Path = MENU, image: Path = IMAGE) -> str:
    token = settings.LINE_CHANNEL_ACCESS_TOKEN
    if not token:
        raise SystemExit("LINE_CHANNEL_ACCESS_TOKEN is not set")
    request = load_menu(menu)
    api_config = Configuration(host=settings.LINE_API_URL, access_token=token)
    data_config = Configuration(host=settings.LINE_DATA_API_URL, access_token=token)
    with ApiClient(api_config) as client, ApiClient(data_config) as data_client:
        api = MessagingApi(client)
        api.validate_rich_menu_object(request)
        menu_id = api.create_rich_menu(request).rich_menu_id
        MessagingApiBlob(data_client).set_rich_menu_image(
            menu_id, body=image.read_bytes(), _headers={"Content-Type": "image/png"}
        )
        api.set_default_rich_menu(menu_id)
    return menu_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--menu", type=Path, default=MENU)
    parser.add_argument("--image", type=Path, default=IMAGE)
    args = parser.parse_args(argv)
    try:
        menu_id = register(Settings(), args.menu, args.image)
    except ApiException as exc:
        print(f"LINE refused the rich menu: {exc.status} {exc.body}", file=sys.stderr)
        return 1
    print(f"rich menu {menu_id} is now the default menu")
    return 0


if __name__ == "__main__":
    sys.exit(main())
