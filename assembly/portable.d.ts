// The engine's AssemblyScript types as the TypeScript compiler sees them when
// it checks the pure-JS build (tsconfig.json resolves './mem' to
// mem.portable.ts through moduleSuffixes). Integer widths are the engine's
// own discipline: the differential test between the builds enforces them.
declare type u8 = number;
declare type u16 = number;
declare type u32 = number;
declare type i32 = number;
declare type bool = boolean;
