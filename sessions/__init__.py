"""What a person touches: the command line, exercises, the runner, recording, review, GUI, MQTT."""
