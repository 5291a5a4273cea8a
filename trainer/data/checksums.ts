/**
 * sha256 of every raw Planetoid file (kimiyoung/planetoid `data/`, commit af6abf4), as listed in
 * /work/shared/data/README.md. `bytes` is the exact size; ind.pubmed.allx is not in the shared
 * data folder (about 7.6 MB), so its size is unknown here and only its sha256 is checked.
 */
export interface PlanetoidFileInfo {
  sha256: string;
  /** exact size in bytes, or null when not known */
  bytes: number | null;
  /** prefix of the git blob id (`git hash-object`) */
  gitBlob: string;
}

export const PLANETOID_SHA256: Readonly<Record<string, PlanetoidFileInfo>> = {
  "ind.cora.x": { sha256: "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab", bytes: 22119, gitBlob: "c4a91d008245" },
  "ind.cora.tx": { sha256: "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a", bytes: 148025, gitBlob: "6e856d777401" },
  "ind.cora.allx": { sha256: "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543", bytes: 257305, gitBlob: "44d53b1fece3" },
  "ind.cora.y": { sha256: "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1", bytes: 4054, gitBlob: "58e30ef120d3" },
  "ind.cora.ty": { sha256: "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad", bytes: 28135, gitBlob: "da1734ab670b" },
  "ind.cora.ally": { sha256: "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71", bytes: 47959, gitBlob: "04fbd0b083d0" },
  "ind.cora.graph": { sha256: "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d", bytes: 59847, gitBlob: "4d3bf85dfc8b" },
  "ind.cora.test.index": { sha256: "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875", bytes: 5000, gitBlob: "ded8092db4cd" },
  "ind.citeseer.x": { sha256: "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6", bytes: 31087, gitBlob: "f094104a66f2" },
  "ind.citeseer.tx": { sha256: "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21", bytes: 260321, gitBlob: "b2aff18aa1fc" },
  "ind.citeseer.allx": { sha256: "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668", bytes: 595021, gitBlob: "592091071ac3" },
  "ind.citeseer.y": { sha256: "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924", bytes: 3014, gitBlob: "e857ac49b611" },
  "ind.citeseer.ty": { sha256: "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce", bytes: 24135, gitBlob: "3795f79df0cd" },
  "ind.citeseer.ally": { sha256: "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95", bytes: 55623, gitBlob: "7503f81a0b6a" },
  "ind.citeseer.graph": { sha256: "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7", bytes: 61987, gitBlob: "a01dca663d01" },
  "ind.citeseer.test.index": { sha256: "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4", bytes: 5000, gitBlob: "62d9e3d5ed53" },
  "ind.pubmed.x": { sha256: "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33", bytes: 23172, gitBlob: "16c0eca8d2b3" },
  "ind.pubmed.tx": { sha256: "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d", bytes: 405505, gitBlob: "eee4f3c988fd" },
  "ind.pubmed.allx": { sha256: "508e538e2abdccdd54c4d3e9f49d638b4af7107d85845f66ddea5a5152658b7e", bytes: null, gitBlob: "3b86bccf08111c37c632a9dd8ab63db25ea76361" },
  "ind.pubmed.y": { sha256: "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3", bytes: 854, gitBlob: "e86670576c85" },
  "ind.pubmed.ty": { sha256: "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd", bytes: 12135, gitBlob: "225a0bb9bb64" },
  "ind.pubmed.ally": { sha256: "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e", bytes: 224739, gitBlob: "4c8bcdc80882" },
  "ind.pubmed.graph": { sha256: "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9", bytes: 471808, gitBlob: "76eb87e628a6" },
  "ind.pubmed.test.index": { sha256: "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5", bytes: 6000, gitBlob: "41f6befcb775" },
};
