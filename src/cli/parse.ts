/** Option parsers for commander that fail with the option's name. */
import { InvalidArgumentError } from 'commander';

export function int(option: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${option} must be a whole number (got "${value}")`);
    return Number(value);
  };
}

export function number(option: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${option} must be a number (got "${value}")`);
    return n;
  };
}

/** An amount of US dollars above zero, e.g. 25 or 0.50. */
export function usd(option: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${option} must be an amount of USD such as 25 or 0.5 (got "${value}")`);
    if (n <= 0) throw new InvalidArgumentError(`${option} must be more than 0 USD (got "${value}")`);
    return n;
  };
}
