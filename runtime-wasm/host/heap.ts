/**
 * Host-side allocator over a wasm module's linear memory. The kernels use no allocator of their
 * own (AssemblyScript runtime `stub`); every buffer they touch is a region handed out here, above
 * the module's heap_base. Regions are 64-byte aligned (cache lines, and v128 loads never split
 * a line), first-fit from a coalescing free list, else bumped from the top; memory grows (in
 * whole pages, at least doubling) only when the top passes its end.
 *
 * Typed-array views of memory are invalidated when memory grows, so take them with f32()/i32()
 * right before use and do not keep them across an alloc().
 */
const PAGE = 65536;
const ALIGN = 64;
const MAX_BYTES = 65536 * PAGE; // wasm32 limit (4 GiB)

interface Block {
  ptr: number;
  size: number;
}

/** What the kernels' hosts need of an allocator over a wasm memory (WasmHeap, MallocHeap). */
export interface RegionAllocator {
  readonly memory: WebAssembly.Memory;
  /** a region of at least `bytes` bytes (never 0, contents unspecified) */
  alloc(bytes: number): number;
  free(ptr: number): void;
  f32(ptr: number, length: number): Float32Array;
  i32(ptr: number, length: number): Int32Array;
  allocF32(src: ArrayLike<number>): number;
  allocI32(src: ArrayLike<number>): number;
}

/** Typed views and copies on top of an allocator's alloc (shared by WasmHeap and MallocHeap). */
abstract class Regions implements RegionAllocator {
  abstract readonly memory: WebAssembly.Memory;
  abstract alloc(bytes: number): number;
  abstract free(ptr: number): void;

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  /** Copies `src` into a new region and returns its pointer. */
  allocF32(src: ArrayLike<number>): number {
    const ptr = this.alloc(src.length * 4);
    this.f32(ptr, src.length).set(src);
    return ptr;
  }

  allocI32(src: ArrayLike<number>): number {
    const ptr = this.alloc(src.length * 4);
    this.i32(ptr, src.length).set(src);
    return ptr;
  }
}

export class WasmHeap extends Regions {
  private top: number;
  private readonly sizes = new Map<number, number>();
  private freeList: Block[] = []; // sorted by ptr, coalesced

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly base: number,
  ) {
    super();
    this.top = alignUp(Math.max(base, ALIGN));
  }

  /** Bytes in use by live regions. */
  get usedBytes(): number {
    let s = 0;
    for (const v of this.sizes.values()) s += v;
    return s;
  }

  /** Current size of linear memory in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Highest address handed out so far. */
  get highWater(): number {
    return this.top;
  }

  /** A region of at least `bytes` bytes (64-byte aligned, never 0, contents unspecified). */
  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`WasmHeap.alloc: invalid size ${bytes}`);
    const size = Math.max(ALIGN, alignUp(bytes));
    for (let i = 0; i < this.freeList.length; i++) {
      const b = this.freeList[i];
      if (b.size >= size) {
        const ptr = b.ptr;
        if (b.size === size) this.freeList.splice(i, 1);
        else {
          b.ptr += size;
          b.size -= size;
        }
        this.sizes.set(ptr, size);
        return ptr;
      }
    }
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    this.sizes.set(ptr, size);
    return ptr;
  }

  /** Returns a region to the free list. Freeing 0 is a no-op. */
  free(ptr: number): void {
    if (ptr === 0) return;
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`WasmHeap.free: ${ptr} is not a live region`);
    this.sizes.delete(ptr);
    // insert sorted, coalesce with neighbours
    let i = 0;
    while (i < this.freeList.length && this.freeList[i].ptr < ptr) i++;
    this.freeList.splice(i, 0, { ptr, size });
    if (i + 1 < this.freeList.length && ptr + size === this.freeList[i + 1].ptr) {
      this.freeList[i].size += this.freeList[i + 1].size;
      this.freeList.splice(i + 1, 1);
    }
    if (i > 0 && this.freeList[i - 1].ptr + this.freeList[i - 1].size === ptr) {
      this.freeList[i - 1].size += this.freeList[i].size;
      this.freeList.splice(i, 1);
      i--;
    }
    // a free block that ends at the top lowers the top
    const last = this.freeList[this.freeList.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.freeList.pop();
    }
  }

  /** Grows linear memory so that [0, end) is addressable. */
  ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (end > MAX_BYTES) throw new RangeError(`wasm memory: ${end} bytes needed, more than the 4 GiB a wasm32 module can address`);
    const want = Math.min(MAX_BYTES, Math.max(end, have * 2));
    const pages = Math.ceil((want - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      const minPages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(minPages);
      } catch (e) {
        throw new RangeError(`wasm memory: could not grow from ${have} to ${end} bytes (${(e as Error).message})`);
      }
    }
  }

}

/**
 * Regions of another module's memory from that module's own allocator (the trainer: the tfjs wasm
 * backend's malloc and free), 16-byte aligned. Views are invalidated by any allocation there,
 * ours or the other module's.
 */
export class MallocHeap extends Regions {
  /** aligned pointer → what malloc returned */
  private readonly raw = new Map<number, number>();

  constructor(
    readonly memory: WebAssembly.Memory,
    private readonly malloc: (bytes: number) => number,
    private readonly release: (ptr: number) => void,
  ) {
    super();
  }

  /** Regions handed out and not freed. */
  get liveRegions(): number {
    return this.raw.size;
  }

  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`MallocHeap.alloc: invalid size ${bytes}`);
    const raw = this.malloc(Math.max(16, Math.ceil(bytes)) + 15);
    if (!raw) throw new RangeError(`MallocHeap.alloc: the host's malloc could not allocate ${bytes} bytes`);
    const ptr = (raw + 15) & ~15;
    this.raw.set(ptr, raw);
    return ptr;
  }

  free(ptr: number): void {
    if (ptr === 0) return;
    const raw = this.raw.get(ptr);
    if (raw === undefined) throw new Error(`MallocHeap.free: ${ptr} is not a live region`);
    this.raw.delete(ptr);
    this.release(raw);
  }

}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** A region that is reused across calls and reallocated (grow-only, ×1.5) when a call needs more. */
export class GrowableRegion {
  private ptr = 0;
  private bytes = 0;
  constructor(private readonly heap: RegionAllocator) {}
  /** Pointer to at least `bytes` bytes; contents are kept only while no reallocation happens. */
  get(bytes: number): number {
    if (bytes > this.bytes || this.ptr === 0) {
      const size = Math.max(bytes, Math.floor(this.bytes * 1.5));
      this.heap.free(this.ptr);
      this.ptr = 0;
      this.bytes = 0;
      this.ptr = this.heap.alloc(size);
      this.bytes = size;
    }
    return this.ptr;
  }
  get capacity(): number {
    return this.bytes;
  }
  release(): void {
    this.heap.free(this.ptr);
    this.ptr = 0;
    this.bytes = 0;
  }
}
