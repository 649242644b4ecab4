"""Lab Streaming Layer: a running session's beats, metrics, ECG, chest movement and events for a lab's recorder.

Why: researchers record heart data next to EEG, eye tracking and stimulus markers, and LSL is how
those streams share one clock (LabRecorder writes them to one XDF file). ``run --lsl`` publishes
what the session sees, time-stamped on LSL's clock at the moment each sample happened, so a lab
needs nothing of this app but the streams. ``pylsl`` is the optional ``lsl`` extra.
"""
