"""The watch page: ``biofeedback watch --web`` serves one live tile per followed session to a browser.

aiohttp (the ``web`` extra) because the watcher already runs on asyncio with aiomqtt: one event
loop carries the broker connection, the HTTP server and the WebSocket that pushes tile updates,
with no thread in between. The page's HTML, JS and CSS are our own, small, and shipped in
``static/`` (no CDN: the page works offline and loads nothing from elsewhere).
"""
