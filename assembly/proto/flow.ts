// Outcomes of one command, shared by the protocol front ends: done (advance
// past it), need more input (R_NEED), output full (call again), swallow the
// rest of the stream (R_SKIP), close, shutdown.
export const P_DONE: u32 = 0;
export const P_NEED: u32 = 1;
export const P_OUT_FULL: u32 = 2;
export const P_SKIP: u32 = 3;
export const P_CLOSE: u32 = 4;
export const P_SHUTDOWN: u32 = 5;
