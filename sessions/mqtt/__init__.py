"""Follow a session live over MQTT (optional: needs the ``mqtt`` extra, aiomqtt 2.x).

``biofeedback run ... --mqtt mqtt[s]://[user@]host[:port][/prefix]`` publishes one session under a
pseudonymous id (random, never the person's name, never the recording's id); ``biofeedback watch``
follows one or several. Off unless asked. The password comes from ``BIOFEEDBACK_MQTT_PASSWORD`` or
``--mqtt-password-file``, never from the command line (it would show in the process list).

Topics (``PREFIX`` defaults to ``biofeedback``; ``SID`` is the session id)::

    PREFIX/SID/status   retained, QoS 1   {"state":"online","since":1717171717.1,"script":"safe-place","v":1}
                                          {"state":"offline","reason":"done"|"lost","v":1}
                                          ("lost" is the last will, sent by the broker when the
                                          publisher vanishes without a goodbye)
    PREFIX/SID/metrics  QoS 0, 1 Hz of    {"t":312.0,"ts":1717172029.4,"hr":61.2,"rr":987,"rmssd":48.3,
                        session time      "coh":0.81,"calm":63.5,"pacer":6.0,"step":"arrive","phase":"step"}
    PREFIX/SID/events   QoS 1             {"t":301.2,"ts":1717172018.6,"kind":"step","step":"arrive",...}

``t`` is session time (s since start, the recording's axis), ``ts`` the publisher's wall clock (Unix
s; watchers use it for staleness and delay). ``rr`` is the latest RR in ms; ``hr`` bpm and
``rmssd`` ms over 60 s; ``coh`` coherence; ``calm`` 0-100; ``pacer`` breaths/min (absent while
the pacer is hidden); absent values are ``null``. Events are a fixed list of kinds with
whitelisted fields (see :mod:`sessions.mqtt.schema`): steps, distress, grounding, recovered, stop,
done, pause/resume, pacer rate, strap link. Prompt texts and anything free-form are never sent.

With ``--ha-discovery`` the publisher also announces Home Assistant MQTT discovery configs
(``homeassistant/sensor/biofeedback/<key>/config``, retained) for heart rate, calm and step, with
stable entity ids pointing at the current session: meant for one home dashboard per broker.

The publisher never slows the session: the runner's listener only appends to a bounded outbox
(oldest metrics dropped first); a separate task sends, reconnecting with backoff; the recording
does not depend on it in any way.
"""
