/**
 * Given names that callers use for one another ("Bob" for Robert, "Liz" for Elizabeth): each group is one name.
 * Ours to keep (issue 13); short on purpose — a nickname not listed here still matches as a possible candidate
 * by its first letters or spelling, it only cannot count as the same name.
 */
const GROUPS: readonly (readonly string[])[] = [
  ['robert', 'bob', 'bobby', 'rob', 'robbie', 'bert'],
  ['william', 'bill', 'billy', 'will', 'willie', 'liam'],
  ['richard', 'rick', 'ricky', 'dick', 'rich', 'richie'],
  ['james', 'jim', 'jimmy', 'jamie'],
  ['john', 'jack', 'johnny', 'jon'],
  ['jonathan', 'jon', 'jonny'],
  ['michael', 'mike', 'mikey', 'mick'],
  ['thomas', 'tom', 'tommy'],
  ['joseph', 'joe', 'joey'],
  ['charles', 'charlie', 'chuck', 'chas'],
  ['christopher', 'chris', 'kit'],
  ['daniel', 'dan', 'danny'],
  ['david', 'dave', 'davey'],
  ['edward', 'ed', 'eddie', 'ted', 'ned'],
  ['anthony', 'tony'],
  ['andrew', 'andy', 'drew'],
  ['matthew', 'matt'],
  ['nicholas', 'nick', 'nicky'],
  ['benjamin', 'ben', 'benny'],
  ['samuel', 'sam', 'sammy'],
  ['alexander', 'alex', 'al', 'sandy'],
  ['steven', 'stephen', 'steve'],
  ['gregory', 'greg'],
  ['timothy', 'tim', 'timmy'],
  ['patrick', 'pat', 'paddy'],
  ['peter', 'pete'],
  ['kenneth', 'ken', 'kenny'],
  ['ronald', 'ron', 'ronnie'],
  ['donald', 'don', 'donnie'],
  ['lawrence', 'larry'],
  ['francis', 'frank', 'frankie'],
  ['henry', 'hank', 'harry'],
  ['elizabeth', 'liz', 'lizzie', 'beth', 'betty', 'eliza', 'betsy'],
  ['margaret', 'maggie', 'meg', 'peggy', 'marge'],
  ['katherine', 'catherine', 'kathryn', 'kate', 'katie', 'kathy', 'cathy', 'kat'],
  ['jennifer', 'jen', 'jenny'],
  ['jessica', 'jess', 'jessie'],
  ['patricia', 'pat', 'patty', 'trish', 'tricia'],
  ['susan', 'sue', 'susie'],
  ['deborah', 'debra', 'deb', 'debbie'],
  ['rebecca', 'becky', 'becca'],
  ['victoria', 'vicky', 'tori'],
  ['christine', 'christina', 'chris', 'chrissy', 'tina'],
  ['barbara', 'barb', 'barbie'],
  ['dorothy', 'dot', 'dottie'],
  ['abigail', 'abby'],
  ['samantha', 'sam', 'sammy'],
  ['alexandra', 'alex', 'sandra', 'sandy', 'lexi'],
  ['amanda', 'mandy'],
  ['kimberly', 'kim'],
  ['melissa', 'missy', 'mel'],
  ['stephanie', 'steph'],
  ['nancy', 'nan'],
  ['theresa', 'teresa', 'terry', 'tess'],
  ['josephine', 'jo', 'josie'],
  ['sarah', 'sara', 'sally'],
  ['mary', 'molly', 'polly', 'mae'],
  ['ann', 'anne', 'anna', 'annie', 'nancy'],
  ['eleanor', 'elena', 'ellie', 'nora'],
  ['isabella', 'isabel', 'bella', 'izzy'],
  ['olivia', 'liv', 'livvy'],
  ['sofia', 'sophia', 'sophie'],
  ['jose', 'pepe'],
  ['francisco', 'paco', 'pancho'],
  ['guillermo', 'memo'],
  ['alejandro', 'alex', 'alejo'],
];

const INDEX: ReadonlyMap<string, ReadonlySet<number>> = (() => {
  const index = new Map<string, Set<number>>();
  GROUPS.forEach((group, i) => {
    for (const name of group) {
      const groups = index.get(name) ?? new Set<number>();
      groups.add(i);
      index.set(name, groups);
    }
  });
  return index;
})();

/** Whether two normalised given names (lower case, no accents) are nicknames of one another. */
export function areNicknames(a: string, b: string): boolean {
  if (a === b) return false;
  const groupsOfA = INDEX.get(a);
  const groupsOfB = INDEX.get(b);
  if (!groupsOfA || !groupsOfB) return false;
  for (const group of groupsOfA) if (groupsOfB.has(group)) return true;
  return false;
}
