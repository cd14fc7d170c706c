/** A process's way of telling its supervisor "restarting me will not help" (sysexits EX_CONFIG), e.g. its port is held by another program. */
export const EXIT_CONFIG = 78;
