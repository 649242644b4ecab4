"""What the VM's strap is and sends; shared by the strap (in the VM) and the test (on the host).

Kept free of third-party imports so the test module can be collected, and can skip with a clear
reason, on a machine without bumble.
"""

STRAP_NAME = "VM Strap"
STRAP_ADDRESS = "F3:5A:1E:C0:DE:01"  # a static random address (two top bits set)
BATTERY_PCT = 87
BODY_LOCATION_CHEST = 0x01

# Real 0x2A37 payloads (a Polar H10 and a generic strap): uint8 HR, RR present, contact bits in
# several states, one without RR.
PAYLOADS = tuple(bytes.fromhex(h) for h in (
    "105819030f03", "1055db02b302", "103b5304", "10482c03", "10495e039603",
    "164d1603", "164e1b031203", "104ed202c802", "065a",
))
