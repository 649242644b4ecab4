"""The pairing dialog: straps nearby with their signal strength, the last strap offered first.

``await choose_strap(...)`` scans in the shared event loop (the dialog stays responsive), lists
what answered, strongest first, and returns the chosen strap or None when the person cancels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout

from devices.ble_strap import FoundStrap
from devices.errors import BluetoothUnavailable, DeviceError
from sessions.gui import style
from sessions.i18n import tr

log = logging.getLogger(__name__)

Scanner = Callable[[float], Awaitable[list[FoundStrap]]]


def signal_bars(rssi: int | None) -> str:
    """Four-step bars from RSSI (dBm): what a person reads at a glance."""
    if rssi is None:
        return "····"
    level = 4 if rssi >= -60 else 3 if rssi >= -70 else 2 if rssi >= -80 else 1
    return "▮" * level + "▯" * (4 - level)


def ordered(found: list[FoundStrap], last: dict[str, Any] | None) -> list[tuple[FoundStrap, bool, bool]]:
    """(strap, is_last, seen_now): the last strap first (even when not seen now), then by signal."""
    by_signal = sorted(found, key=lambda s: -(s.rssi if s.rssi is not None else -999))
    rows: list[tuple[FoundStrap, bool, bool]] = []
    last_addr = (last or {}).get("address")
    if last_addr:
        match = next((s for s in by_signal if s.address.lower() == last_addr.lower()), None)
        rows.append((match or FoundStrap(last_addr, (last or {}).get("name"), None), True, match is not None))
    rows += [(s, False, True) for s in by_signal if not (last_addr and s.address.lower() == last_addr.lower())]
    return rows


class PairingDialog(QDialog):
    def __init__(self, lang: str, last: dict[str, Any] | None, scanner: Scanner, timeout_s: float = 6.0) -> None:
        super().__init__()
        self.lang = lang
        self.last = last
        self.scanner = scanner
        self.timeout_s = timeout_s
        self.chosen: FoundStrap | None = None
        self.done_event = asyncio.Event()
        self._scan_task: asyncio.Task | None = None
        self.setWindowTitle(tr(lang, "pair_title"))
        self.setStyleSheet(style.STYLE_SHEET)
        self.resize(560, 420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        title = QLabel(tr(lang, "pair_title"))
        title.setObjectName("header")
        self.message = QLabel(tr(lang, "pair_hint"))
        self.message.setObjectName("status")
        self.message.setWordWrap(True)
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda _item: self._connect())
        buttons = QHBoxLayout()
        self.rescan_button = QPushButton(tr(lang, "pair_rescan"))
        self.cancel_button = QPushButton(tr(lang, "pair_cancel"))
        self.connect_button = QPushButton(tr(lang, "pair_connect"))
        self.list.currentRowChanged.connect(lambda row: self.connect_button.setEnabled(row >= 0))
        self.connect_button.setDefault(True)
        self.connect_button.setEnabled(False)
        self.rescan_button.clicked.connect(self.rescan)
        self.cancel_button.clicked.connect(self.reject)
        self.connect_button.clicked.connect(self._connect)
        buttons.addWidget(self.rescan_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.connect_button)
        for w in (title, self.message, self.list):
            layout.addWidget(w)
        layout.addLayout(buttons)
        self.rows: list[tuple[FoundStrap, bool, bool]] = []
        self._fill([])

    def _fill(self, found: list[FoundStrap]) -> None:
        self.rows = ordered(found, self.last)
        self.list.clear()
        for strap, is_last, seen in self.rows:
            name = strap.name or tr(self.lang, "pair_unnamed")
            signal = (f"{signal_bars(strap.rssi)}  {strap.rssi} dBm" if seen and strap.rssi is not None
                      else tr(self.lang, "pair_not_seen") if not seen else signal_bars(None))
            tag = f"   ({tr(self.lang, 'pair_last')})" if is_last else ""
            item = QListWidgetItem(f"{name}{tag}\n{strap.address}    {tr(self.lang, 'pair_signal')} {signal}")
            if not seen:
                item.setForeground(style.qcolor(style.TEXT_DIM))
            self.list.addItem(item)
        if self.rows:
            self.list.setCurrentRow(0)

    def rescan(self) -> None:
        if self._scan_task is not None and not self._scan_task.done():
            return
        self._scan_task = asyncio.ensure_future(self._scan())

    async def _scan(self) -> None:
        self.rescan_button.setEnabled(False)
        self.message.setText(tr(self.lang, "pair_scanning"))
        try:
            found = await self.scanner(self.timeout_s)
        except BluetoothUnavailable as err:
            # The devices layer speaks to the command line ("or use --simulate"); here a person uses a window.
            detail = str(err).split(", or use --simulate")[0].split("; or run without a strap")[0].rstrip(".")
            self.message.setText(tr(self.lang, "pair_no_bluetooth") + "\n" + tr(self.lang, "pair_detail", detail=detail))
            found = []
        except DeviceError as err:
            self.message.setText(str(err).split(", or use --simulate")[0])
            found = []
        except Exception as err:  # noqa: BLE001 - a scan failure is shown, never a crash
            log.exception("Scanning for straps failed")
            self.message.setText(str(err) or type(err).__name__)
            found = []
        else:
            self.message.setText(tr(self.lang, "pair_hint") if found else tr(self.lang, "pair_none"))
        finally:
            self.rescan_button.setEnabled(True)
        self._fill(found)

    def _connect(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.rows):
            self.chosen = self.rows[row][0]
            self.accept()

    def done(self, result: int) -> None:  # QDialog.done: accept, reject and Esc all end here
        super().done(result)
        if self._scan_task is not None and not self._scan_task.done():
            self._scan_task.cancel()
        self.done_event.set()


async def choose_strap(lang: str, last: dict[str, Any] | None, scanner: Scanner | None = None,
                       timeout_s: float = 6.0) -> FoundStrap | None:
    """Show the dialog, scan at once, and return the strap the person picked (None: cancelled)."""
    if scanner is None:
        from devices.ble_strap import scan

        async def scanner(timeout: float) -> list[FoundStrap]:
            return await scan(timeout=timeout)

    dialog = PairingDialog(lang, last, scanner, timeout_s)
    dialog.show()
    dialog.rescan()
    await dialog.done_event.wait()
    return dialog.chosen
