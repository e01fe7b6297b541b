"""Smart dispatch and text intelligence: the category classifier, routing rules, duplicate
detection, hotspot mining and knowledge-base answers. Runs on the CPU, offline; every change it
makes to a case goes through the case actions."""
