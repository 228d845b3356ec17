/** Every item of a paged listing, read page by page and put together (for a caller that needs them all at once). */
export async function allPages<T>(pages: AsyncIterable<readonly T[]>): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...page);
  return items;
}
