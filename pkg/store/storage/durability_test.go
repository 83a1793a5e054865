package storage

const crashChildEnv = "STORAGE_CRASH_CHILD_DIR"

func crashChild() {}
