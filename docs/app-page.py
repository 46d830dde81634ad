"""Wraps an episode's show notes in a page laid out like a podcast app's episode screen, so that the
README can show what a listener sees. `make screenshot` runs it and photographs the page.

Usage: python docs/app-page.py EPISODE_FOLDER PAGE.html
"""
import html, json, sys
from pathlib import Path
folder = Path(sys.argv[1])
episode = json.loads((folder / "episode.json").read_text())
notes = (folder / episode["notes"]).read_text()
cover = (folder / episode["art"]).resolve()
Path(sys.argv[2]).parent.mkdir(parents=True, exist_ok=True)
page = f"""<!doctype html><html><head><meta charset="utf-8"><title>notes</title><style>
body {{ font: 15px/1.45 -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif; margin: 0; background: #f4f4f6; color: #1c1c1e; }}
main {{ max-width: 720px; margin: 0 auto; padding: 24px; background: #fff; }}
header {{ display: flex; gap: 18px; align-items: center; margin-bottom: 12px; }}
header img {{ width: 132px; height: 132px; border-radius: 10px; }}
header h1 {{ font-size: 19px; margin: 0 0 4px; }}
header p {{ margin: 0; color: #6e6e73; font-size: 13px; }}
h3 {{ font-size: 16px; margin: 18px 0 4px; }}
ul {{ padding-left: 20px; margin: 4px 0; }} li {{ margin: 3px 0; }}
a {{ color: #7a3fd1; text-decoration: none; }}
</style></head><body><main><header><img src="file://{cover}"><div><h1>{html.escape(episode['title'])}</h1>
<p>{html.escape(episode['published'][:10])} · {round(episode['duration'] / 60)} min</p></div></header>
{notes}</main></body></html>"""
Path(sys.argv[2]).write_text(page)
