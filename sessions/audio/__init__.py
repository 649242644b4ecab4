"""Sound for eyes-closed exercises: breathing cues that follow the pacer and spoken prompts.

``speech`` turns text into samples (espeak-ng), ``render`` lays out a whole exercise offline
(``biofeedback render-audio``), ``live`` mixes cues and speech for a running session and plays them
through ``player`` (sounddevice/PortAudio), and ``addon`` wires it into ``biofeedback run``.
"""
