import { denseToCsr } from "../../ticket/csr.js";
import type { WeightMatrix } from "../../ticket/ticket.js";

/** Masked weights for a ticket: CSR when anything was pruned, else dense. */
export function ticketWeight(values: Float32Array, mask: Float32Array, rows: number, cols: number): WeightMatrix {
  const data = new Float32Array(values.length);
  let pruned = false;
  for (let i = 0; i < data.length; i++) {
    data[i] = mask[i] !== 0 ? values[i] : 0;
    if (mask[i] === 0) pruned = true;
  }
  if (!pruned) return { format: "dense", rows, cols, data };
  return { format: "csr", ...denseToCsr({ rows, cols, data }) };
}
