// Exit codes shared by the commands (Jepsen's convention for run verdicts).
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_UNKNOWN = 2;
export const EXIT_BAD_ARGUMENTS = 254;
export const EXIT_LAB_FAILED = 255;
