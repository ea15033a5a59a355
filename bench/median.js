// The median every bench script reports: of an odd count, the middle value; of an even count, the
// mean of the two middle values (not the larger); of none, NaN.
export function median(xs) {
  const s = [...xs].sort((x, y) => x - y), h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}
